"""The setup step's Stripe reads, on the Stripe task queue: the dry run (list the account
page by page, count what a sync would do, write nothing) and the product refresh (the
product list into the mirror, for the settings page's picker)."""

from __future__ import annotations

import dataclasses
import time

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive, progress
from revsync.budget.lookup import budget_of
from revsync.setup import mirrored, reading
from revsync.setup.account_pages import dry_run_account
from revsync.setup.dry_run import DryRunReport
from revsync.setup.types import DryRunInput, RefreshInput
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

    @activity.defn(name="revsync.refresh_products")
    @kept_alive
    def refresh_products(self, request: RefreshInput) -> int:
        """Every product listed again from Stripe into the mirror; how many were stored."""
        url = self.settings.resolved_database_url
        with permanent_errors():
            with db.session(url) as session:
                workspace = workspaces.by_id(session, request.workspace_id)
                budget = budget_of(session, self.settings, workspace)
            gateway = self.gateways.get(request.workspace_id)
            # No fresher than when the listing began: a row a webhook or a sync page wrote
            # meanwhile is newer and stays.
            listed_at = time.time()
            listed, _ = reading.product_objects(
                gateway, budget.requests_per_second(self.settings), tick=progress)
            with db.session(url) as session:
                return mirrored.store_products(session, request.workspace_id, listed,
                                               listed_at)
