"""A workspace's budget from the database, as the Temporal priority its workflows carry.

Activities inherit their workflow's priority, so setting it where a workflow starts puts
every Stripe call of that workflow under its account's key, with no per-call plumbing.
"""

from __future__ import annotations

from sqlmodel import Session, func, select
from temporalio.common import Priority

from revsync.budget.rates import AccountBudget, account_weight, budget_key, check_weight
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Workspace


def budget_of(session: Session, settings: Settings, workspace: Workspace) -> AccountBudget:
    """The account's key and weight; workspaces sharing an account use their largest weight,
    so the account has one weight whichever of them is syncing."""
    assert workspace.id is not None
    weight = workspace.budget_weight
    if workspace.stripe_account_id:
        shared = session.exec(
            select(func.max(Workspace.budget_weight))
            .where(Workspace.stripe_account_id == workspace.stripe_account_id)
        ).one()
        weight = max(weight, float(shared or weight))
    return AccountBudget(
        key=budget_key(workspace.id, workspace.stripe_account_id),
        weight=account_weight(settings, workspace.stripe_livemode, weight),
    )


def priority(budget: AccountBudget) -> Priority:
    return Priority(fairness_key=budget.key, fairness_weight=budget.weight)


def priority_of(settings: Settings, workspace: Workspace) -> Priority:
    """The priority to start the workspace's workflows with (one small read)."""
    with db.session(settings.resolved_database_url) as session:
        return priority(budget_of(session, settings, workspace))


def set_weight(session: Session, workspace: Workspace, weight: float) -> None:
    """Store a checked weight; the workspace's next workflows carry it."""
    workspace.budget_weight = check_weight(weight)
    session.add(workspace)
    session.commit()
