"""Setup workflows: a dry run before the first sync; re-derivation after an option change."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from revsync.workflows.retries import database, stripe

with workflow.unsafe.imports_passed_through():
    from revsync.activities.full_sync import SyncStoreActivities
    from revsync.activities.setup import SetupActivities
    from revsync.feed.causes import rederive_source
    from revsync.setup.dry_run import DryRunReport
    from revsync.setup.types import DryRunInput, RederiveInput
    from revsync.sync.types import DeriveCounts, DeriveInput

BATCH = 500


@workflow.defn(name="StripeDryRun")
class DryRunWorkflow:
    """Counts only; the listing runs on the Stripe queue, paced to the budget."""

    @workflow.run
    async def run(self, request: DryRunInput) -> DryRunReport:
        return await workflow.execute_activity_method(
            SetupActivities.dry_run,
            request,
            task_queue=request.stripe_task_queue,
            **stripe(timedelta(hours=2)),
        )


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
