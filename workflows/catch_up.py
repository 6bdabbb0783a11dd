"""StripeCatchUp: after downtime, start the event workflows for missed events.

Each event gets the same workflow id a webhook would have started, so events that
did arrive (or arrive during the catch-up) are not applied twice.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows.retries import STRIPE_RETRY
from workflows.stripe_event import StripeEventWorkflow

with workflow.unsafe.imports_passed_through():
    from revsync.event_types import (
        CatchUpInput,
        CatchUpResult,
        EventInput,
        EventPage,
        event_workflow_id,
    )

PAGES_PER_RUN = 5  # then continue-as-new: each page can start 100 workflows


@workflow.defn(name="StripeCatchUp")
class CatchUpWorkflow:
    @workflow.run
    async def run(self, request: CatchUpInput) -> CatchUpResult:
        for _ in range(PAGES_PER_RUN):
            page: EventPage = await workflow.execute_activity(
                "revsync.list_event_page",
                request,
                result_type=EventPage,
                task_queue=request.stripe_events_task_queue,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=STRIPE_RETRY,
            )
            started = 0
            for event in page.events:
                started += await self._start(request.workspace_name, event)
            request = dataclasses.replace(
                request,
                cursor=page.cursor,
                pages=request.pages + 1,
                events=request.events + len(page.events),
                started=request.started + started,
            )
            workflow.set_current_details(
                f"{request.pages} page(s), {request.events} event(s), {request.started} started"
            )
            if not page.has_more:
                return CatchUpResult(request.pages, request.events, request.started)
        workflow.continue_as_new(request)

    async def _start(self, workspace_name: str, event: EventInput) -> int:
        try:
            await workflow.start_child_workflow(
                StripeEventWorkflow.run,
                event,
                id=event_workflow_id(workspace_name, event.event_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                static_summary=event.event_type,
            )
        except WorkflowAlreadyStartedError:
            return 0  # delivered as a webhook, or already replayed
        return 1
