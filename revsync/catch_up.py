"""Read missed events back from Stripe's Events API (it keeps the last 30 days).

Stripe filters by at most 20 types and the sync handles more, so the page is read
unfiltered and the unhandled types are dropped here. The listing walks newest to
oldest from the moment it starts; events created meanwhile arrive as webhooks.
"""

from __future__ import annotations

from revsync.event_types import CatchUpInput, EventInput, EventPage
from revsync.events import EventError, event_from_dict
from revsync.stripe_api import PAGE_SIZE, StripeGateway, StripeUnavailable


def list_event_page(gateway: StripeGateway, request: CatchUpInput) -> EventPage:
    params: dict[str, object] = {"limit": PAGE_SIZE, "created": {"gte": request.since}}
    if request.cursor:
        params["starting_after"] = request.cursor
    body, requests = gateway.get("/v1/events", params)
    data, has_more = body.get("data"), body.get("has_more")
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise StripeUnavailable("Stripe answered /v1/events with a malformed list")
    events: list[EventInput] = []
    cursor = request.cursor
    for raw in data:
        try:
            parsed = event_from_dict(raw)
        except EventError:
            continue  # not an event we could use; Stripe never sends these
        cursor = parsed.id
        if parsed.handled and parsed.targets:
            events.append(
                EventInput(
                    workspace_id=request.workspace_id,
                    event_id=parsed.id,
                    event_type=parsed.type,
                    created=parsed.created,
                    targets=list(parsed.targets),
                    stripe_task_queue=request.stripe_events_task_queue,
                )
            )
    if has_more and cursor == request.cursor:
        raise StripeUnavailable("Stripe answered /v1/events with more to come but no cursor")
    return EventPage(events=events, cursor=cursor, has_more=has_more, requests=requests)
