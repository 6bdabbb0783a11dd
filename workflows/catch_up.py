"""StripeCatchUp: after downtime, start the event workflows for missed events.

Each event gets the same workflow id a webhook would have started, so events that
did arrive (or arrive during the catch-up) are not applied twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

from revsync.workflows.retries import stripe
from revsync.workflows.stripe_event import StripeEventWorkflow

with workflow.unsafe.imports_passed_through():
    from revsync.activities.catch_up import CatchUpActivities
    from revsync.events.types import (
        CatchUpInput,
        CatchUpResult,
        EventInput,
        EventResult,
        event_workflow_id,
    )

PAGES_PER_RUN = 5  # then continue-as-new: each page can start 100 workflows


@workflow.defn(name="StripeCatchUp")
class CatchUpWorkflow:
    @workflow.run
    async def run(self, request: CatchUpInput) -> CatchUpResult:
        for _ in range(PAGES_PER_RUN):
            page = await workflow.execute_activity_method(
                CatchUpActivities.list_event_page,
                request,
                task_queue=request.stripe_events_task_queue,
                **stripe(timedelta(minutes=2)),
            )
            children = [await self._start(request.workspace_name, e) for e in page.events]
            started = [child for child in children if child is not None]
            # Wait for this page's events, so "done" means applied.
            outcomes = await asyncio.gather(*started, return_exceptions=True)
            failed = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
            request = dataclasses.replace(
                request,
                cursor=page.cursor,
                pages=request.pages + 1,
                events=request.events + len(page.events),
                started=request.started + len(started),
                failed=request.failed + failed,
            )
            workflow.set_current_details(
                f"{request.pages} page(s), {request.events} event(s), {request.started} "
                f"started, {request.failed} failed"
            )
            if not page.has_more:
                return CatchUpResult(
                    request.pages, request.events, request.started, request.failed
                )
        workflow.continue_as_new(request)

    async def _start(
        self, workspace_name: str, event: EventInput
    ) -> ChildWorkflowHandle[StripeEventWorkflow, EventResult] | None:
        try:
            return await workflow.start_child_workflow(
                StripeEventWorkflow.run,
                event,
                id=event_workflow_id(workspace_name, event.event_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                static_summary=event.event_type,
            )
        except WorkflowAlreadyStartedError:
            return None  # delivered as a webhook, or already replayed
