"""The activity `workflows/catch_up.py` runs: one page of missed events.

It runs on the events' Stripe task queue, inside the account's webhook budget, like an
event's refetch.
"""

from __future__ import annotations

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive
from revsync.events.catch_up import applied_event_ids, list_event_page
from revsync.events.types import CatchUpInput, EventPage
from revsync.store import db


class CatchUpActivities(StripeActivities):
    @activity.defn(name="revsync.list_event_page")
    @kept_alive
    def list_event_page(self, request: CatchUpInput) -> EventPage:
        """One page (100) of events since `request.since`, less those already applied."""
        def applied(event_ids: list[str]) -> set[str]:
            with db.session(self.settings.resolved_database_url) as session:
                return applied_event_ids(session, request.workspace_id, event_ids)

        with permanent_errors():
            gateway = self.gateways.get(request.workspace_id)
            return list_event_page(gateway, request, applied)
