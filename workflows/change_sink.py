"""ChangeSinkWorkflow: one workspace's change feed, handed to the platform's sink
activity a batch at a time, in order (see `revsync.feed.sink`).

It reads the next batch after the acknowledged position (a local activity, which also
stores the acknowledgement), calls the sink on the platform's task queue until the call
succeeds, and reads again. Caught up, it waits for a nudge, with no timer: an idle
workspace costs no action. It continues as new every so many rounds, carrying the
acknowledged position, so its history stays short however long it lives.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy

with workflow.unsafe.imports_passed_through():
    from revsync.activities.change_sink import SinkActivities
    from revsync.feed.sink import NUDGE, SINK_WORKFLOW, SinkInput, SinkRead
    from revsync.workflows.retries import local_database

ROUNDS_PER_RUN = 200
READ_TIMEOUT = timedelta(minutes=1)
# The platform's sink is retried for as long as it fails (nothing else waits on it),
# backing off to one attempt every five minutes.
SINK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1),
                         maximum_interval=timedelta(minutes=5))


@workflow.defn(name=SINK_WORKFLOW)
class ChangeSinkWorkflow:
    def __init__(self) -> None:
        self._nudged = False

    @workflow.signal(name=NUDGE)
    def nudge(self) -> None:
        self._nudged = True

    @workflow.run
    async def run(self, request: SinkInput) -> None:
        acknowledged = request.acknowledged
        for _ in range(ROUNDS_PER_RUN):
            self._nudged = False  # a nudge from here on asks for another read
            page = await workflow.execute_local_activity_method(
                SinkActivities.next_changes,
                SinkRead(request.workspace_id, acknowledged, request.batch_size),
                **local_database(READ_TIMEOUT))
            acknowledged = page.acknowledged
            if page.batch.changes:
                await workflow.execute_activity(
                    request.activity, page.batch, task_queue=request.task_queue,
                    start_to_close_timeout=timedelta(seconds=request.timeout_seconds),
                    retry_policy=SINK_RETRY,
                    priority=Priority(fairness_key=f"workspace-{request.workspace_id}"),
                    summary=f"changes {page.batch.changes[0].position}"
                            f"..{page.batch.changes[-1].position}")
                acknowledged = page.batch.changes[-1].position
                continue
            await workflow.wait_condition(lambda: self._nudged)
        workflow.continue_as_new(replace(request, acknowledged=acknowledged))
