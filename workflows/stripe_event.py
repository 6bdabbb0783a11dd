"""StripeEventWorkflow: one verified webhook event, applied exactly once.

One activity on the account's rate-limited events queue refetches the objects the
event names, re-derives the subscribers they reach in one locked transaction and hands
the transitions to the automations: a start and one activity attempt are all the
Temporal actions an event costs. The workflow id is `stripe-event/<workspace>/<event
id>`, so a redelivery while this runs, or after it succeeded, starts nothing; the
database record of the event covers redeliveries after Temporal's retention has
forgotten the id.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from revsync.activities.stripe_event import EventActivities
    from revsync.events.types import EventInput, EventResult
    from revsync.workflows.retries import stripe

# Two refetches and one short locked transaction, with room for a slow Stripe answer.
TIMEOUT = timedelta(minutes=3)


# Outside the workflow sandbox: its per-run setup is a large share of what Temporal's
# SDK costs an event (`bench/event_floor.py` prints both shapes), and this body (one
# activity, then a details line from its result) touches no clock, randomness or
# module state that the sandbox would guard. The replay test in tests/events checks it.
@workflow.defn(name="StripeEventWorkflow", sandboxed=False)
class StripeEventWorkflow:
    @workflow.run
    async def run(self, event: EventInput) -> EventResult:
        result = await workflow.execute_activity_method(
            EventActivities.process_event,
            event,
            task_queue=event.stripe_task_queue,
            **stripe(TIMEOUT),
        )
        workflow.set_current_details(
            f"{event.event_type}: {result.outcome}, {result.subscribers} subscriber(s), "
            f"{result.transitions} transition(s), {result.requests} Stripe request(s)"
        )
        return result
