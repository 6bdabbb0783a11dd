"""The dry run: list the account page by page, count what a sync would do, write nothing."""

from __future__ import annotations

import dataclasses

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive, progress
from revsync.budget.lookup import budget_of
from revsync.setup.account_pages import dry_run_account
from revsync.setup.dry_run import DryRunReport
from revsync.setup.types import DryRunInput
from revsync.store import db, workspaces


class SetupActivities(StripeActivities):
    @activity.defn(name="revsync.dry_run")
    @kept_alive
    def dry_run(self, request: DryRunInput) -> DryRunReport:
        with permanent_errors():
            with db.session(self.settings.resolved_database_url) as session:
                workspace = workspaces.by_id(session, request.workspace_id)
                budget = budget_of(session, self.settings, workspace)
            policy = dataclasses.replace(
                workspaces.policy(workspace),
                products=frozenset(request.products),
                sync_without_payment=request.sync_without_payment,
            )
            return dry_run_account(
                self.gateways.get(request.workspace_id), self.settings.resolved_database_url,
                request.workspace_id, policy, tick=progress,
                requests_per_second=budget.requests_per_second(self.settings))
