"""StripeEventWorkflow: one verified webhook event, applied exactly once.

Refetch the objects the event names (on the rate-limited Stripe queue), then
re-derive the subscribers they reach in one locked transaction and hand the
transitions to the automations (both local activities, on the workflow's own
worker). The workflow id is `stripe-event/<workspace>/<event id>`, so a redelivery
while this runs, or after it succeeded, starts nothing; the database record of the
event covers redeliveries after Temporal's retention has forgotten the id.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from revsync.automations.types import DispatchInput, DispatchResult
    from revsync.events.types import ApplyInput, EventInput, EventResult, Refetched
    from revsync.workflows.retries import database, local_database, stripe

STRIPE_TIMEOUT = timedelta(minutes=2)
DB_TIMEOUT = timedelta(minutes=2)
# Applying and dispatching run as local activities: two fewer round trips through the
# server per event. Runs started before that replay their regular activities.
LOCAL_DATABASE_STEPS = "database-steps-local"


@workflow.defn(name="StripeEventWorkflow")
class StripeEventWorkflow:
    @workflow.run
    async def run(self, event: EventInput) -> EventResult:
        refetched: Refetched = await workflow.execute_activity(
            "revsync.refetch_event_objects",
            event,
            result_type=Refetched,
            task_queue=event.stripe_task_queue,
            **stripe(STRIPE_TIMEOUT),
        )
        apply = ApplyInput(
            workspace_id=event.workspace_id,
            event_id=event.event_id,
            event_type=event.event_type,
            created=event.created,
            targets=event.targets,
            customer_ids=refetched.customer_ids,
        )
        dispatch = DispatchInput(event.workspace_id, event.event_id)
        result: EventResult
        if workflow.patched(LOCAL_DATABASE_STEPS):
            result = await workflow.execute_local_activity(
                "revsync.apply_event", apply, result_type=EventResult,
                **local_database(DB_TIMEOUT))
            if result.transitions:
                await workflow.execute_local_activity(
                    "revsync.dispatch_transitions", dispatch, result_type=DispatchResult,
                    **local_database(DB_TIMEOUT))
        else:  # started before the database steps became local: replayed as it ran
            result = await workflow.execute_activity(
                "revsync.apply_event", apply, result_type=EventResult, **database(DB_TIMEOUT))
            if result.transitions:
                await workflow.execute_activity(
                    "revsync.dispatch_transitions", dispatch, result_type=DispatchResult,
                    **database(DB_TIMEOUT))
        result.requests = refetched.requests
        workflow.set_current_details(
            f"{event.event_type}: {result.outcome}, {result.subscribers} subscriber(s), "
            f"{result.transitions} transition(s), {result.requests} Stripe request(s)"
        )
        return result
