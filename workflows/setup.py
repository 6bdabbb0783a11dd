"""Setup workflows: a dry run before the first sync; the product list read again for the
settings page's picker; re-derivation after an option change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from temporalio import workflow

from revsync.workflows.retries import database, stripe

with workflow.unsafe.imports_passed_through():
    from revsync.activities.full_sync import SyncStoreActivities
    from revsync.activities.setup import SetupActivities
    from revsync.feed.causes import rederive_source
    from revsync.setup.dry_run import DryRunReport
    from revsync.setup.types import DryRunInput, RederiveInput, RefreshInput
    from revsync.sync.types import DeriveCounts, DeriveInput

BATCH = 500
# A refresh someone waits for on a page: Stripe unreachable for this long ends it (a sync
# waits outages out instead), and the page says the list was not refreshed.
REFRESH_GIVEN_UP = timedelta(minutes=5)


class OnStripeQueue(Protocol):
    stripe_task_queue: str


In = TypeVar("In", bound=OnStripeQueue)
Out = TypeVar("Out")


async def on_stripe_queue(activity: Callable[[Any, In], Out], request: In,
                          start_to_close: timedelta, **limits: Any) -> Out:
    """The one activity of a setup workflow, on the Stripe queue the request names; it
    inherits the workflow's priority, so it waits its turn in the account's budget."""
    return await workflow.execute_activity_method(
        activity, request, task_queue=request.stripe_task_queue, **limits,
        **stripe(start_to_close))


@workflow.defn(name="StripeDryRun")
class DryRunWorkflow:
    """Counts only; the listing runs on the Stripe queue, paced to the budget."""

    @workflow.run
    async def run(self, request: DryRunInput) -> DryRunReport:
        return await on_stripe_queue(SetupActivities.dry_run, request, timedelta(hours=2))


@workflow.defn(name="StripeRefreshProducts")
class RefreshProductsWorkflow:
    """One listing of the products into the mirror, on the Stripe queue."""

    @workflow.run
    async def run(self, request: RefreshInput) -> int:
        return await on_stripe_queue(SetupActivities.refresh_products, request,
                                     timedelta(minutes=2),
                                     schedule_to_close_timeout=REFRESH_GIVEN_UP)


@workflow.defn(name="StripeRederive")
class RederiveWorkflow:
    """Every subscriber derived again from the mirror; no Stripe request, no automations."""

    @workflow.run
    async def run(self, request: RederiveInput) -> DeriveCounts:
        now = request.now or int(workflow.now().timestamp())
        total, cursor = DeriveCounts(), 0
        while True:
            result = await workflow.execute_activity_method(
                SyncStoreActivities.derive_subscribers,
                DeriveInput(request.workspace_id, cursor, now, BATCH, 4,
                            rederive_source(workflow.info().run_id), fire=False),
                **database(timedelta(minutes=10)),
            )
            total.add(result.counts)
            cursor = result.last_subscriber_id
            if result.done:
                return total
