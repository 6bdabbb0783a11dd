"""StripeFullSync: list every stream, sweep deletions, derive subscribers, report.

Orchestration only. The workflow's state is ids, cursors and counts; Stripe keys and
emails never enter its history. It continues-as-new before the history grows large,
carrying the same state, so a 100,000-customer account is one logical sync.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from revsync.workflows.retries import database, stripe

with workflow.unsafe.imports_passed_through():
    from revsync.activities.automations import AutomationActivities
    from revsync.activities.full_sync import SyncStoreActivities, SyncStripeActivities
    from revsync.automations.types import DispatchInput
    from revsync.feed.causes import sync_source
    from revsync.sync.partitions import (
        TAIL_PAGES_PER_PART,
        lower_bound,
        parts_for,
        split,
    )
    from revsync.sync.types import (
        DeriveInput,
        FetchInput,
        FinishInput,
        PartitionInput,
        StreamState,
        SweepInput,
        SyncInput,
        SyncReport,
        SyncState,
        min_requests,
        stream_totals,
    )

# Continue-as-new at the server's suggestion (a dev server suggests it at 4,096 events)
# or past this many events, if the cluster suggests it later. Each one stops every
# cursor until the last in flight returns (half the budget for several seconds at 300 ms
# a request), so not too often.
HISTORY_LIMIT = 8_000
MAX_PARTITIONS = 32  # of a stream listing at once: each costs at most one partial page


@workflow.defn(name="StripeFullSync")
class FullSyncWorkflow:
    def __init__(self) -> None:
        self._state: SyncState | None = None
        self._status = "running"
        self._customers: dict[str, int] = {}
        self._history_limit = HISTORY_LIMIT

    @workflow.run
    async def run(self, request: SyncInput) -> SyncReport:
        if request.history_limit:
            self._history_limit = request.history_limit
        state = request.state or await self._start(request)
        self._state = state
        try:
            await self._advance(request, state)
        except ActivityError as error:
            self._status = "failed"
            reason = str(error.cause or error)
            await self._finish(state, error=reason)
            raise ApplicationError(reason, type="SyncFailed", non_retryable=True) from error
        self._status = "completed"
        return self.progress()

    async def _advance(self, request: SyncInput, state: SyncState) -> None:
        if state.phase == "streams":
            await asyncio.gather(*(self._stream(request, i) for i in range(len(state.streams))))
            self._continue_if_needed(request, state)
            state.phase = "sweep"
        if state.phase == "sweep":
            await workflow.execute_activity_method(
                SyncStoreActivities.sweep_mirror,
                # Catalogues are kept: a deleted coupon still discounts the
                # subscriptions that carry it.
                SweepInput(request.workspace_id, state.sync_run_id, state.listed_since,
                           sorted({s.name for s in state.streams if not s.catalogue})),
                **database(),
            )
            state.phase = "derive"
        while state.phase == "derive":
            result = await workflow.execute_activity_method(
                SyncStoreActivities.derive_subscribers,
                DeriveInput(request.workspace_id, state.derive_cursor, state.now,
                            request.derive_batch_size, request.derive_batches_per_activity,
                            sync_source(state.sync_run_id), state.record_transitions),
                **database(),
            )
            state.derive_cursor = result.last_subscriber_id
            state.derive.add(result.counts)
            self._show()
            if result.done:
                state.phase = "finish"
            else:
                self._continue_if_needed(request, state)
        self._customers = await self._finish(state)
        # A first sync's changes fire nothing, but the sink still delivers them.
        await workflow.execute_activity_method(
            AutomationActivities.dispatch_transitions,
            DispatchInput(request.workspace_id, sync_source(state.sync_run_id)),
            **database(),
        )

    async def _start(self, request: SyncInput) -> SyncState:
        started = await workflow.execute_activity_method(
            SyncStoreActivities.start_run,
            request.workspace_id,
            **database(timedelta(minutes=1)),
        )
        record = (request.fire_automations if request.fire_automations is not None
                  else not started.first_sync)
        return SyncState(started.sync_run_id, started.listed_since, started.now, started.streams,
                         record_transitions=record)

    async def _stream(self, request: SyncInput, index: int) -> None:
        """Fetch one stream to its end, a few pages per activity, splitting it as it goes."""
        assert self._state is not None
        while not self._state.streams[index].done and not self._history_full():
            stream = self._state.streams[index]
            self._state.streams[index] = stream = await workflow.execute_activity_method(
                SyncStripeActivities.fetch_stream_pages,
                FetchInput(request.workspace_id, self._state.sync_run_id, stream),
                task_queue=request.stripe_task_queue,
                **stripe(),
            )
            self._show()
            parts = await self._parts(request, stream)
            if len(parts) > 1:
                await self._run_parts(request, index, parts)
                return
            if parts:
                self._state.streams[index] = parts[0]

    async def _parts(self, request: SyncInput, stream: StreamState) -> list[StreamState]:
        """The stream cut into created-time partitions to list concurrently; [] for none.

        Cut wherever fewer cursors are in flight than the account's budget needs at the
        latency seen (`partitions.parts_for`), from a lower bound known without a request.
        A stream with no bound known yet is cut after `split_after_pages` pages, probing
        Stripe for its oldest object first.
        """
        assert self._state is not None
        first_part = 1 + max(s.part for s in self._state.streams if s.name == stream.name)
        count, low = parts_for(stream, self._state.streams, request.requests_per_second,
                               MAX_PARTITIONS, request.queue_partitions, TAIL_PAGES_PER_PART)
        if count and low is not None:
            return split(stream, low, count, first_part)
        if not self._worth_splitting(request, stream):
            return []
        oldest = lower_bound(stream)
        if oldest is not None:
            return split(stream, oldest, request.partitions, first_part)
        return await workflow.execute_activity_method(
            SyncStripeActivities.plan_partitions,
            PartitionInput(request.workspace_id, stream, request.partitions, first_part,
                           self._state.sync_run_id),
            task_queue=request.stripe_task_queue,
            **stripe(),
        )

    def _worth_splitting(self, request: SyncInput, stream: StreamState) -> bool:
        assert self._state is not None
        siblings = sum(1 for s in self._state.streams if s.name == stream.name)
        return (request.partitions > 1 and not stream.catalogue and not stream.done
                and stream.pages - stream.split_pages >= request.split_after_pages
                and siblings + request.partitions - 1 <= MAX_PARTITIONS)

    async def _run_parts(self, request: SyncInput, index: int, parts: list[StreamState]
                         ) -> None:
        """The stream continues as the first part; the others list at the same time."""
        assert self._state is not None
        self._state.streams[index] = parts[0]
        first = len(self._state.streams)
        self._state.streams.extend(parts[1:])
        await asyncio.gather(
            self._stream(request, index),
            *(self._stream(request, i) for i in range(first, len(self._state.streams))),
        )

    async def _finish(self, state: SyncState, error: str | None = None) -> dict[str, int]:
        return await workflow.execute_activity_method(
            SyncStoreActivities.finish_run,
            FinishInput(state.sync_run_id, state.streams, state.derive, error),
            **database(),
        )

    def _show(self) -> None:
        """Progress in the Temporal UI's "current details": counts only, never PII."""
        report = self.progress()
        streams = ", ".join(f"{s.name} {s.objects:,}{'' if s.done else '…'}"
                            for s in stream_totals(report.streams))
        workflow.set_current_details(
            f"**{report.phase}** · listed: {streams} · requests {report.requests:,} "
            f"(minimum {report.min_requests:,}) · subscribers derived "
            f"{report.derive.subscribers_seen:,}"
        )

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._history_limit
        )

    def _continue_if_needed(self, request: SyncInput, state: SyncState) -> None:
        if self._history_full():
            state.continued += 1
            workflow.continue_as_new(dataclasses.replace(request, state=state))

    @workflow.query
    def progress(self) -> SyncReport:
        """Counts so far, for the CLI's progress bar and the Temporal UI."""
        state = self._state
        if state is None:
            return SyncReport()
        return SyncReport(
            sync_run_id=state.sync_run_id,
            phase=state.phase,
            streams=state.streams,
            derive=state.derive,
            requests=sum(s.requests for s in state.streams),
            min_requests=min_requests(state.streams),
            catalogue_requests=sum(s.requests for s in state.streams if s.catalogue),
            status=self._status,
            customers=self._customers,
            continued=state.continued,
        )
