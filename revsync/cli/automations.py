"""`starter.py automations ...`, `outbox` and `subscribers unsubscribe`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from revsync.automations import defaults, mailer, rule_store
from revsync.automations.client import unsubscribe as stop_sequences
from revsync.automations.definitions import DefinitionError
from revsync.automations.types import KINDS
from revsync.cli.common import WorkspaceOption, csv_list, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.cli.rules import app as rules_app
from revsync.store import db, workspaces
from revsync.subscribers import manage
from revsync.temporal.client import connect

app = typer.Typer(help="Automations fed by revenue changes: win-back, thank-you, team alert, "
                  "and the workspace's own rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command("list")
def list_rules(workspace: WorkspaceOption = "default") -> None:
    """The three default rules (win-back, thank-you, team alert), on or off, with their
    settings; `automations rules list` shows every rule."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        table = Table("automation", "rule", "on", "settings")
        for kind in KINDS:
            try:
                row = defaults.default_rule(session, ws.id, kind)
            except rule_store.RuleNotFound:
                table.add_row(kind, "-", "-", "deleted")
                continue
            table.add_row(kind, str(row.id), "yes" if row.enabled else "no",
                          str(defaults.summary(row)))
    console.print(table)


@app.command("set")
def set_rule(
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(KINDS)}.")],
    on: Annotated[bool | None, typer.Option("--on/--off", help="Turn it on or off.")] = None,
    delays: Annotated[str | None, typer.Option(help="win_back: days between emails (3,7).")]
    = None,
    threshold: Annotated[str | None, typer.Option(help="thank_you: LTV; team_alert: MRR.")]
    = None,
    recipients: Annotated[str | None, typer.Option(help="team_alert: team@x.io,ops@x.io")]
    = None,
    workspace: WorkspaceOption = "default",
) -> None:
    """Turn a default rule on or off, or tune it; nothing is stored if a value is bad."""
    try:
        delays_days = None if delays is None else [float(d) for d in csv_list(delays)]
    except ValueError:
        raise fail(f"--delays are numbers of days, not {delays!r}") from None
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            ws = workspaces.by_name(session, workspace)
            assert ws.id is not None
            row = defaults.tune(settings, session, ws.id, kind, enabled=on,
                                delays_days=delays_days, threshold=threshold,
                                recipients=None if recipients is None else csv_list(recipients))
        except (workspaces.WorkspaceError, rule_store.RuleStoreError, DefinitionError,
                defaults.DefaultRuleError) as error:
            raise fail(str(error)) from None
        console.print(f"{kind} (rule {row.id}): {'on' if row.enabled else 'off'}, "
                      f"{defaults.summary(row)}")


def outbox(workspace: WorkspaceOption = "default",
           limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """Messages the automations wrote (sent, or waiting when no SMTP server is set)."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        rows = mailer.outbox(session, ws.id, limit=limit)
    table = Table("id", "status", "to", "subject", "key")
    for row in rows:
        table.add_row(str(row.id), row.status, ", ".join(row.recipients), row.subject,
                      row.idempotency_key)
    console.print(table)


def unsubscribe(email: str, workspace: WorkspaceOption = "default") -> None:
    """Mark a subscriber unsubscribed and stop its running sequences (win-back, ...)."""
    settings = load_settings()
    with db.locked_session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        try:
            row = manage.find(session, ws.id, email=email, lock=True)
        except manage.SubscriberNotFound:
            raise fail(f"no subscriber {email!r} in workspace {workspace!r}") from None
        sequences = manage.unsubscribe(session, row)
        session.commit()
        assert row.id is not None
        subscriber_id = row.id

    async def stop() -> bool:
        client = await connect(settings)
        return await stop_sequences(client, workspace, subscriber_id, sequences)

    stopped = asyncio.run(stop())
    console.print(f"{email} unsubscribed" + ("; its running sequences stop" if stopped else ""))
