"""`starter.py budget`: a workspace's Stripe budget, and its weight against other accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from revsync.budget.lookup import budget_of, set_weight
from revsync.budget.rates import MAX_WEIGHT, MIN_WEIGHT
from revsync.cli.common import WorkspaceOption, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.store import db


def budget(
    workspace: WorkspaceOption = "default",
    weight: Annotated[float | None, typer.Option(
        min=MIN_WEIGHT, max=MAX_WEIGHT,
        help="Share of the workers and of the Stripe budget against other accounts "
        "(1 = equal); it scales the account's requests/s too.")] = None,
) -> None:
    """Show (and with --weight, set) the Stripe budget the workspace's calls run under."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        if weight is not None:
            set_weight(session, ws, weight)
        account = budget_of(session, settings, ws)
        mode = "live" if ws.stripe_livemode else "test"
    console.print(
        f"Stripe account {account.key} ({mode} mode): weight {account.weight:g}, full sync "
        f"{account.requests_per_second(settings):g} requests/s, webhooks "
        f"{settings.stripe_event_requests_per_second * account.weight:g} requests/s "
        f"(workspace weight {ws.budget_weight:g})"
    )
