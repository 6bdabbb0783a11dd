"""`starter.py automations ...`, `outbox` and `subscribers unsubscribe`."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import select

from revsync.automations import mailer, rule_store
from revsync.automations.client import unsubscribe as stop_sequences
from revsync.automations.rules import RuleError
from revsync.automations.store import configure, rules_for
from revsync.automations.types import KINDS
from revsync.cli.common import WorkspaceOption, csv_list, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.cli.rules import app as rules_app
from revsync.revenue import normalize_email
from revsync.store import db, workspaces
from revsync.store.models import Subscriber
from revsync.temporal.client import connect

app = typer.Typer(help="Automations fed by revenue changes: win-back, thank-you, team alert, "
                  "and the workspace's own rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command("list")
def list_rules(workspace: WorkspaceOption = "default") -> None:
    """Each automation, on or off, with its settings."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        table = Table("automation", "on", "settings")
        for kind, rule in rules_for(session, ws.id).items():
            table.add_row(kind, "yes" if rule.enabled else "no", str(dict(rule.config)))
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
    """Turn an automation on or off, or tune it; nothing is stored if a value is bad."""
    config: dict[str, object] = {}
    if delays is not None:
        try:
            config["delays_days"] = [float(d) for d in csv_list(delays)]
        except ValueError:
            raise fail(f"--delays are numbers of days, not {delays!r}") from None
    if threshold is not None:
        config["threshold"] = threshold
    if recipients is not None:
        config["recipients"] = csv_list(recipients)
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            ws = workspaces.by_name(session, workspace)
            assert ws.id is not None
            rule = configure(session, ws.id, kind, enabled=on, config=config)
        except (workspaces.WorkspaceError, RuleError) as error:
            raise fail(str(error)) from None
    console.print(f"{kind}: {'on' if rule.enabled else 'off'}, {dict(rule.config)}")


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
    """Mark a subscriber unsubscribed and stop a running win-back sequence."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        row = session.exec(select(Subscriber).where(
            Subscriber.workspace_id == ws.id,
            Subscriber.email_norm == (normalize_email(email) or ""))).first()
        if row is None:
            raise fail(f"no subscriber {email!r} in workspace {workspace!r}")
        row.unsubscribed = True
        session.add(row)
        session.commit()
        assert row.id is not None and ws.id is not None
        subscriber_id = row.id
        sequences = rule_store.sequence_rule_ids(session, ws.id)

    async def stop() -> bool:
        client = await connect(settings)
        return await stop_sequences(client, workspace, subscriber_id, sequences)

    stopped = asyncio.run(stop())
    console.print(f"{email} unsubscribed" + ("; its running sequences stop" if stopped else ""))
