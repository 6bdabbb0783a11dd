"""The activities `workflows/full_sync.py` runs.

`SyncStripeActivities` read Stripe, on the Stripe task queue, whose server-side activity
rate keeps the whole fleet within the account's request budget. Each page is committed
together with the stream's checkpoint, then the cursor is heartbeated (and kept alive
between pages and during backoffs, see `liveness`); a killed worker loses at most the
page in flight. A 429 is not retried here: the activity returns what it committed (or
fails, for its first page) and the next fetch waits for the account's rate in Temporal.

`SyncStoreActivities` are the database side: the run record, the sweep of deleted
objects, the derivation of subscribers in committed batches.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive, progress
from revsync.feed import retention
from revsync.gateway.stripe_api import (
    STREAMS,
    Throttled,
    metered,
    streams_needed,
    throttling_to_caller,
)
from revsync.settings import Settings
from revsync.store import db, mirror, workspaces
from revsync.subscribers import derivation, derive_checkpoints, facts
from revsync.sync import checkpoints, runs
from revsync.sync.partitions import DAY, oldest_search_range, split
from revsync.sync.types import (
    DeriveCounts,
    DeriveInput,
    DeriveResult,
    FetchInput,
    FinishInput,
    PartitionInput,
    RunStarted,
    StreamState,
    SweepInput,
)

# A throttled first page is retried by Temporal after this long, and then waits in the
# task queue for the account's rate like any other fetch.
THROTTLED_RETRY = timedelta(seconds=1)


class SyncStripeActivities(StripeActivities):
    """Listing pages, with one Stripe client per workspace reused across pages."""

    @activity.defn(name="revsync.fetch_stream_pages")
    @kept_alive
    def fetch_stream_pages(self, request: FetchInput) -> StreamState:
        url = self.settings.resolved_database_url
        counter = checkpoints.request_counter(url, request.sync_run_id, request.stream.key)
        with permanent_errors(), metered(counter), throttling_to_caller():
            gateway = self.gateways.get(request.workspace_id)
            with db.session(url) as session:
                state = checkpoints.resume_point(session, request.sync_run_id, request.stream)
            # Temporal paces these activities at the account's budget divided by this many
            # requests, so the pages that complete nested lists count too, and what one
            # page took beyond the allowance is paid back by the next activities.
            allowance = self.settings.pages_per_activity - state.owed
            sent = 0
            while not state.done and sent < allowance:
                progress(state.name, state.cursor, state.pages)
                asked = time.monotonic()
                try:
                    page = gateway.list_page(
                        state.name, state.cursor, state.cursor_created, state.created_filter
                    )
                except Throttled:
                    if sent:  # what was read is committed; the next fetch waits its turn
                        break
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
                sent += page.requests
            return replace(state, owed=max(0, sent - allowance))

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
            gateway = self.gateways.get(request.workspace_id)
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


class SyncStoreActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    @activity.defn(name="revsync.start_run")
    @kept_alive
    def start_run(self, workspace_id: int) -> RunStarted:
        """Create (or find, on retry) the run record and list the streams this sync needs."""
        info = activity.info()
        with permanent_errors(), db.session(self.url) as session:
            workspace = workspaces.by_id(session, workspace_id)
            workspaces.gateway(self.settings, workspace)  # fail now if not connected
            run_key = f"{info.workflow_id}/{info.workflow_run_id}"
            assert info.workflow_id is not None
            run = runs.start(session, workspace_id, info.workflow_id, run_key)
            derive_checkpoints.prune(session)  # once per sync, not per derive activity
            retention.prune(session, workspace_id,
                            timedelta(days=self.settings.feed_retention_days))
            session.commit()
            assert run.id is not None
            first_sync = not runs.completed_before(session, workspace_id, run.id)
            names = streams_needed(bool(workspace.products))
        started = run.started_at.timestamp()
        return RunStarted(
            sync_run_id=run.id,
            listed_since=started,
            now=int(started),
            streams=[StreamState(name=n, catalogue=STREAMS[n].catalogue) for n in names],
            first_sync=first_sync,
        )

    @activity.defn(name="revsync.sweep_mirror")
    @kept_alive
    def sweep_mirror(self, request: SweepInput) -> dict[str, int]:
        """Forget objects a complete listing no longer returned (deleted in Stripe)."""
        with db.session(self.url) as session:
            removed = {
                name: mirror.sweep(session, name, request.workspace_id, request.sync_run_id,
                                   request.listed_since)
                for name in request.streams
            }
            session.commit()
        return removed

    @activity.defn(name="revsync.derive_subscribers")
    @kept_alive
    def derive_subscribers(self, request: DeriveInput) -> DeriveResult:
        """Derive a few batches of subscribers, each committed with this activity's progress,
        so a retry resumes after the last committed batch with its counts."""
        info = activity.info()
        key = f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
        # Locked like a webhook event's derivation, so the two never interleave.
        with permanent_errors(), db.locked_session(self.url) as session:
            inputs = derivation.inputs_for(session, request.workspace_id)
            cursor, done, total = request.after_subscriber_id, False, DeriveCounts()
            for _ in range(request.max_batches):
                # Each batch's transaction starts from the committed progress, read locked,
                # so no attempt ever works from a stale cursor.
                saved = derive_checkpoints.claim(session, key, info.attempt)
                if saved is not None:
                    cursor, done, total = saved.cursor, saved.done, saved.counts
                if done:
                    break
                cursor, done, batch = derivation.derive_next_batch(
                    session, inputs, cursor, request.batch_size, request.now,
                    request.source_id, request.fire,
                )
                total.add(batch.counts)
                derive_checkpoints.save(session, key, info.attempt, cursor, done, total)
                session.commit()
                progress(cursor)
            session.commit()
        return DeriveResult(last_subscriber_id=cursor, done=done, counts=total)

    @activity.defn(name="revsync.finish_run")
    @kept_alive
    def finish_run(self, request: FinishInput) -> dict[str, int]:
        """Write the run's outcome and return the customer report."""
        with db.session(self.url) as session:
            run = runs.get(session, request.sync_run_id)
            report = facts.customer_report(session, run.workspace_id)
            runs.finish(session, request, report)
        return report
