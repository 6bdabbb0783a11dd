"""The one Stripe-calling activity of a full sync: fetch a few pages of one stream.

It runs on the Stripe task queue, whose server-side activity rate keeps the whole
fleet within the account's request budget. Each page is committed together with
the stream's checkpoint, then the cursor is heartbeated; a killed worker loses at
most the page in flight.
"""

from __future__ import annotations

import threading
import time

from temporalio import activity

from activities.errors import permanent_errors
from revsync import db, runs, workspaces
from revsync.settings import Settings
from revsync.stripe_api import StripeGateway
from revsync.sync_types import FetchInput, StreamState


def heartbeating_sleep(seconds: float) -> None:
    """Back off without going silent: a long Retry-After must not look like a dead worker."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        activity.heartbeat()
        time.sleep(min(left, 1.0))


class StripePageActivities:
    """Holds one Stripe client per workspace so connections are reused across pages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._gateways: dict[tuple[int, str], StripeGateway] = {}
        self._lock = threading.Lock()

    def _gateway(self, workspace_id: int) -> StripeGateway:
        with db.session(self.settings.resolved_database_url) as session:
            workspace = workspaces.by_id(session, workspace_id)
        key = (workspace_id, workspace.stripe_key_encrypted or "")
        with self._lock:
            if key not in self._gateways:
                gateway = workspaces.gateway(self.settings, workspace)
                gateway.sleep = heartbeating_sleep
                self._gateways[key] = gateway
            return self._gateways[key]

    @activity.defn(name="revsync.fetch_stream_pages")
    def fetch_stream_pages(self, request: FetchInput) -> StreamState:
        url = self.settings.resolved_database_url
        with permanent_errors():
            gateway = self._gateway(request.workspace_id)
            with db.session(url) as session:
                state = runs.resume_point(session, request.sync_run_id, request.stream)
            fetched = 0
            while not state.done and fetched < self.settings.pages_per_activity:
                activity.heartbeat(state.name, state.cursor, state.pages)
                page = gateway.list_page(state.name, state.cursor, state.cursor_created)
                with db.session(url) as session:
                    state = runs.commit_page(
                        session, request.workspace_id, request.sync_run_id, state, page
                    )
                fetched += 1
            return state
