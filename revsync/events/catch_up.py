"""Read missed events back from Stripe's Events API (it keeps the last 30 days).

Stripe filters by at most 20 types and the sync handles more, so the page is read
unfiltered and the unhandled types are dropped here. The listing walks newest to
oldest from the moment it starts; events created meanwhile arrive as webhooks.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, select

from revsync.events.parsing import EventError, event_from_dict
from revsync.events.types import CatchUpInput, EventInput, EventPage
from revsync.gateway.stripe_api import PAGE_SIZE, StripeGateway, StripeUnavailable
from revsync.store.models import StripeEvent


def list_event_page(
    gateway: StripeGateway, request: CatchUpInput, applied: Callable[[list[str]], set[str]]
) -> EventPage:
    """One page of events; those `applied` says were already applied are left out."""
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
    done = applied([e.event_id for e in events]) if events else set()
    fresh = [e for e in events if e.event_id not in done]
    return EventPage(events=fresh, cursor=cursor, has_more=has_more, requests=requests)


def applied_event_ids(session: Session, workspace_id: int, event_ids: list[str]) -> set[str]:
    return set(
        session.exec(
            select(StripeEvent.id).where(
                StripeEvent.workspace_id == workspace_id, col(StripeEvent.id).in_(event_ids)
            )
        ).all()
    )
