"""Start the workflow of one verified Stripe event (webhook endpoint, tests, bench)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.common import Priority, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from revsync.events.parsing import ParsedEvent
from revsync.events.types import EventInput, event_workflow_id
from revsync.settings import Settings

WORKFLOW = "StripeEventWorkflow"
START_TIMEOUT = timedelta(seconds=5)


async def start_event_workflow(
    client: Client, settings: Settings, workspace_name: str, workspace_id: int, event: ParsedEvent,
    priority: Priority = Priority.default,
) -> tuple[str, bool]:
    """Return the workflow id, and False when the event was already processed.

    Running already: the call attaches (`USE_EXISTING`) and starts nothing. Completed:
    Temporal refuses the id (`ALLOW_DUPLICATE_FAILED_ONLY`), the redelivery no-op.
    Failed: a new run starts, so Stripe's retry of a failed event is processed.
    `priority` carries the account's budget key (`revsync.budget.lookup`).
    """
    workflow_id = event_workflow_id(workspace_name, event.id)
    try:
        await client.start_workflow(
            WORKFLOW,
            EventInput(
                workspace_id=workspace_id,
                event_id=event.id,
                event_type=event.type,
                created=event.created,
                targets=list(event.targets),
                stripe_task_queue=settings.stripe_events_task_queue,
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=event.type,
            # Stripe waits ~10 s for an answer; a 503 sooner makes it retry later.
            rpc_timeout=START_TIMEOUT,
            priority=priority,
        )
    except WorkflowAlreadyStartedError:
        return workflow_id, False
    return workflow_id, True
