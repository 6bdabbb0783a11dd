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
    from revsync.activities.automations import AutomationActivities
    from revsync.activities.stripe_event import EventStoreActivities, EventStripeActivities
    from revsync.automations.types import DispatchInput
    from revsync.events.types import ApplyInput, EventInput, EventResult
    from revsync.workflows.retries import local_database, stripe

STRIPE_TIMEOUT = timedelta(minutes=2)
# Applying and dispatching are local activities: two fewer round trips through the
# server per event.
DB_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name="StripeEventWorkflow")
class StripeEventWorkflow:
    @workflow.run
    async def run(self, event: EventInput) -> EventResult:
        refetched = await workflow.execute_activity_method(
            EventStripeActivities.refetch_event_objects,
            event,
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
        result = await workflow.execute_local_activity_method(
            EventStoreActivities.apply_event, apply, **local_database(DB_TIMEOUT))
        if result.transitions:
            await workflow.execute_local_activity_method(
                AutomationActivities.dispatch_transitions,
                DispatchInput(event.workspace_id, event.event_id),
                **local_database(DB_TIMEOUT))
        result.requests = refetched.requests
        workflow.set_current_details(
            f"{event.event_type}: {result.outcome}, {result.subscribers} subscriber(s), "
            f"{result.transitions} transition(s), {result.requests} Stripe request(s)"
        )
        return result
