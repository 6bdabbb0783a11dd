"""The one Stripe-calling activity of a full sync: fetch a few pages of one stream.

It runs on the Stripe task queue, whose server-side activity rate keeps the whole
fleet within the account's request budget. Each page is committed together with
the stream's checkpoint, then the cursor is heartbeated (and kept alive between pages and
during backoffs, see `liveness`); a killed worker loses at most the page in flight.
A 429 is not retried here: the activity returns what it committed (or fails, for its
first page) and the next fetch waits for the account's rate in Temporal.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import GatewayCache
from revsync.activities.liveness import kept_alive, progress
from revsync.gateway.stripe_api import StripeGateway, Throttled, metered, throttling_to_caller
from revsync.settings import Settings
from revsync.store import db
from revsync.sync import checkpoints
from revsync.sync.partitions import DAY, oldest_search_range, split
from revsync.sync.types import FetchInput, PartitionInput, StreamState

# A throttled first page is retried by Temporal after this long, and then waits in the
# task queue for the account's rate like any other fetch.
THROTTLED_RETRY = timedelta(seconds=1)


class StripePageActivities:
    """Holds one Stripe client per workspace so connections are reused across pages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._gateways = GatewayCache(settings)

    def _gateway(self, workspace_id: int) -> StripeGateway:
        return self._gateways.get(workspace_id)

    @activity.defn(name="revsync.fetch_stream_pages")
    @kept_alive
    def fetch_stream_pages(self, request: FetchInput) -> StreamState:
        url = self.settings.resolved_database_url
        counter = checkpoints.request_counter(url, request.sync_run_id, request.stream.key)
        with permanent_errors(), metered(counter), throttling_to_caller():
            gateway = self._gateway(request.workspace_id)
            with db.session(url) as session:
                state = checkpoints.resume_point(session, request.sync_run_id, request.stream)
            fetched = 0
            while not state.done and fetched < self.settings.pages_per_activity:
                progress(state.name, state.cursor, state.pages)
                asked = time.monotonic()
                try:
                    page = gateway.list_page(
                        state.name, state.cursor, state.cursor_created, state.created_filter
                    )
                except Throttled:
                    if fetched:  # what was read is committed; the next fetch waits its turn
                        return state
                    # Benign: expected under a budget Stripe enforces exactly, so the
                    # SDK logs it at debug, without a traceback per 429.
                    raise ApplicationError("Stripe throttled the account (429)",
                                           type="StripeThrottled",
                                           next_retry_delay=THROTTLED_RETRY,
                                           category=ApplicationErrorCategory.BENIGN) from None
                with db.session(url) as session:
                    state = checkpoints.commit_page(
                        session, request.workspace_id, request.sync_run_id, state, page,
                        seconds=time.monotonic() - asked,
                    )
                fetched += 1
            return state

    @activity.defn(name="revsync.plan_partitions")
    @kept_alive
    def plan_partitions(self, request: PartitionInput) -> list[StreamState]:
        """Find the stream's oldest object (day precision) and split what is left to read.

        A binary search of one-object requests (about 14 for a 20-year range); they are
        counted in the stream's requests.
        """
        stream = request.stream
        reached = stream.cursor_created
        if reached is None or stream.done:
            return [replace(stream, split_pages=stream.pages)]
        counter = checkpoints.request_counter(self.settings.resolved_database_url,
                                              request.sync_run_id, stream.key)
        with permanent_errors(), metered(counter):
            gateway = self._gateway(request.workspace_id)
            older, requests = gateway.exists_before(stream.name, reached)
            low, high = oldest_search_range(reached)
            low_day, high_day = low // DAY, -(-high // DAY)
            while older and high_day - low_day > 1:
                progress(stream.key, low_day, high_day)
                middle = (low_day + high_day) // 2
                found, spent = gateway.exists_before(stream.name, middle * DAY)
                requests += spent
                low_day, high_day = (low_day, middle) if found else (middle, high_day)
        stream = replace(stream, requests=stream.requests + requests)
        oldest = low_day * DAY if older else reached
        return split(stream, oldest, request.parts, request.first_part)
