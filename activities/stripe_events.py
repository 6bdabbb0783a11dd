"""Stripe-calling activities of webhook events and catch-up.

They run on the events' Stripe task queue, whose server-side activity rate is the
webhook share of the account's request budget. Results carry ids and counts only.
"""

from __future__ import annotations

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import GatewayCache
from revsync.activities.liveness import kept_alive
from revsync.events import refetch
from revsync.events.catch_up import applied_event_ids, list_event_page
from revsync.events.types import CatchUpInput, EventInput, EventPage, Refetched
from revsync.settings import Settings
from revsync.store import db


class StripeEventActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._gateways = GatewayCache(settings)

    @activity.defn(name="revsync.refetch_event_objects")
    @kept_alive
    def refetch_event_objects(self, event: EventInput) -> Refetched:
        """Store the current state of the event's objects; say which customers they touch."""
        with permanent_errors():
            gateway = self._gateways.get(event.workspace_id)
            return refetch.refetch(
                gateway, self.settings.resolved_database_url, event.workspace_id, event.targets
            )

    @activity.defn(name="revsync.list_event_page")
    @kept_alive
    def list_event_page(self, request: CatchUpInput) -> EventPage:
        """One page (100) of events since `request.since`, less those already applied."""
        def applied(event_ids: list[str]) -> set[str]:
            with db.session(self.settings.resolved_database_url) as session:
                return applied_event_ids(session, request.workspace_id, event_ids)

        with permanent_errors():
            gateway = self._gateways.get(request.workspace_id)
            return list_event_page(gateway, request, applied)
