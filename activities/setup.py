"""The dry run: list the account into memory, count what a sync would do, write nothing."""

from __future__ import annotations

import dataclasses

from sqlmodel import select
from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive, progress
from revsync.budget.lookup import budget_of
from revsync.setup import reading
from revsync.setup.dry_run import DryRunReport, dry_run
from revsync.setup.types import DryRunInput
from revsync.store import db, workspaces
from revsync.store.models import Subscriber


class SetupActivities(StripeActivities):
    @activity.defn(name="revsync.dry_run")
    @kept_alive
    def dry_run(self, request: DryRunInput) -> DryRunReport:
        with permanent_errors():
            with db.session(self.settings.resolved_database_url) as session:
                workspace = workspaces.by_id(session, request.workspace_id)
                budget = budget_of(session, self.settings, workspace)
                emails = set(session.exec(select(Subscriber.email_norm).where(
                    Subscriber.workspace_id == request.workspace_id)).all())
            policy = dataclasses.replace(
                workspaces.policy(workspace),
                products=frozenset(request.products),
                sync_without_payment=request.sync_without_payment,
            )
            gateway = self.gateways.get(request.workspace_id)
            facts, catalogue, _ = reading.account(
                gateway, bool(policy.products), tick=progress,
                requests_per_second=budget.requests_per_second(self.settings),
            )
            return dry_run(facts, policy, catalogue, emails)
