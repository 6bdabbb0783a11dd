"""The database side of a webhook event: apply it once, in one locked transaction."""

from __future__ import annotations

import time

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.liveness import kept_alive
from revsync.events.apply import apply_event
from revsync.events.types import ApplyInput, EventResult
from revsync.settings import Settings
from revsync.store import db


class EventStoreActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name="revsync.apply_event")
    @kept_alive
    def apply_event(self, request: ApplyInput) -> EventResult:
        """Re-derive the event's subscribers and record it; a retry finds it recorded."""
        with permanent_errors(), db.locked_session(self.settings.resolved_database_url) as s:
            return apply_event(s, request, now=int(time.time()))
