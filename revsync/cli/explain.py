"""`starter.py explain EMAIL`: how a subscriber's numbers and tags were derived."""

from __future__ import annotations

from typing import Annotated

import typer

from revsync.cli.common import WorkspaceOption, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.explain import render, report
from revsync.revenue import RevenueError, normalize_email
from revsync.store import db, workspaces


def explain(email: Annotated[str, typer.Argument(help="The subscriber's email.")],
            workspace: WorkspaceOption = "default") -> None:
    """Each customer, subscription item, discount, FX rate and charge behind the MRR and
    LTV, the status policy, and what each recent transition fired. Reads the database
    only (no Stripe request)."""
    settings = load_settings()
    normalized = normalize_email(email)
    if normalized is None:
        raise fail("give the subscriber's email")
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        try:
            found = report.report(session, report.by_email(session, ws.id, normalized))
        except report.NoSuchSubscriber:
            raise fail(f"no subscriber {email!r} in workspace {workspace!r}") from None
        except (workspaces.WorkspaceError, RevenueError) as error:
            raise fail(str(error), code=1) from None
    for line in render.lines(email, found):
        console.print(line, highlight=False, markup=False)
