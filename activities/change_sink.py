"""The change sink's own activity: acknowledge delivered changes and read the next."""

from __future__ import annotations

from temporalio import activity

from revsync.feed import sink
from revsync.feed.sink import SinkPage, SinkRead
from revsync.settings import Settings
from revsync.store import db


class SinkActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name="revsync.next_changes")
    def next_changes(self, request: SinkRead) -> SinkPage:
        with db.session(self.settings.resolved_database_url) as session:
            page = sink.next_batch(session, request)
            session.commit()
            return page
