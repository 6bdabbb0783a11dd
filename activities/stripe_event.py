"""The activities `workflows/stripe_event.py` runs for one webhook event.

`EventStripeActivities.refetch_event_objects` runs on the events' Stripe task queue, whose
server-side activity rate is the webhook share of the account's request budget.
`EventStoreActivities.apply_event` is the database side, run as a local activity on the
workflow's own worker: one locked transaction that re-derives the event's subscribers
and records the event, so a retry finds it recorded. Results carry ids and counts only.
"""

from __future__ import annotations

import time

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive
from revsync.events import refetch
from revsync.events.apply import apply_event
from revsync.events.types import ApplyInput, EventInput, EventResult, Refetched
from revsync.settings import Settings
from revsync.store import db


class EventStripeActivities(StripeActivities):
    @activity.defn(name="revsync.refetch_event_objects")
    @kept_alive
    def refetch_event_objects(self, event: EventInput) -> Refetched:
        """Store the current state of the event's objects; say which customers they touch."""
        with permanent_errors():
            gateway = self.gateways.get(event.workspace_id)
            return refetch.refetch(
                gateway, self.settings.resolved_database_url, event.workspace_id, event.targets
            )


class EventStoreActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name="revsync.apply_event")
    @kept_alive
    def apply_event(self, request: ApplyInput) -> EventResult:
        """Re-derive the event's subscribers and record it; a retry finds it recorded."""
        with permanent_errors(), db.locked_session(self.settings.resolved_database_url) as s:
            return apply_event(s, request, now=int(time.time()))
