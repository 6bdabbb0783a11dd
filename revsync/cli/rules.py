"""`starter.py automations rules ...`: a workspace's own rules, as JSON documents.

    rules list                       every rule, one line each
    rules show ID                    one rule's document
    rules add FILE                   a new rule from a JSON file (- reads standard input)
    rules replace ID FILE            the rule becomes that document
    rules on ID | off ID | delete ID
    rules webhook [--url URL --secret-env VAR | --off]   where rule webhooks go
    rules deliveries                 the newest webhook attempts

The document is described in docs/automations.md. A rule that does not validate is
one line listing every problem and exit 2; nothing is saved.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table
from sqlmodel import Session

from revsync.automations import outbound_store, rule_store
from revsync.automations.definitions import DefinitionError
from revsync.cli.common import WorkspaceOption, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.settings import Settings
from revsync.store import db

app = typer.Typer(help="The workspace's own rules: trigger + condition + action.",
                  no_args_is_help=True)
RuleId = Annotated[int, typer.Argument(min=1, help="The rule's id (see `rules list`).")]
DocFile = Annotated[str, typer.Argument(help="A JSON file with the rule; - for stdin.")]


def _with_workspace(name: str, work: Callable[[Settings, Session, int], Any],
                    secrets: bool = False) -> Any:
    settings = load_settings(secrets)
    with db.session(settings.resolved_database_url) as session:
        workspace = workspace_or_fail(session, name)
        assert workspace.id is not None
        try:
            return work(settings, session, workspace.id)
        except (DefinitionError, rule_store.RuleStoreError,
                outbound_store.OutboundError) as error:
            raise fail(str(error)) from None


def _document(source: str) -> Any:
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise fail(f"cannot read {source}: {error.strerror}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise fail(f"{source} is not JSON: {error}") from None


def _print(row: Any) -> None:
    console.print_json(orjson.dumps(rule_store.shown(row)).decode())


@app.command("list")
def list_rules(workspace: WorkspaceOption = "default") -> None:
    """Every rule of the workspace."""
    rows = _with_workspace(workspace, lambda _, s, ws: rule_store.list_rules(s, ws))
    table = Table("id", "on", "name", "trigger", "condition", "action")
    for row in rows:
        doc = row.definition
        table.add_row(str(row.id), "yes" if row.enabled else "no", row.name,
                      doc["trigger"]["kind"], doc.get("condition") or "",
                      doc["action"]["kind"])
    console.print(table)


@app.command("show")
def show(rule_id: RuleId, workspace: WorkspaceOption = "default") -> None:
    """One rule's whole document."""
    _print(_with_workspace(workspace, lambda _, s, ws: rule_store.get(s, ws, rule_id)))


@app.command("add")
def add(source: DocFile, workspace: WorkspaceOption = "default") -> None:
    """Add a rule; it applies to transitions dispatched from now on."""
    doc = _document(source)
    _print(_with_workspace(workspace, lambda st, s, ws: rule_store.create(st, s, ws, doc)))


@app.command("replace")
def replace(rule_id: RuleId, source: DocFile, workspace: WorkspaceOption = "default") -> None:
    """Replace a rule with a whole new document (a running sequence uses it from its next
    step)."""
    doc = _document(source)
    _print(_with_workspace(workspace, lambda st, s, ws: rule_store.replace(st, s, ws, rule_id,
                                                                             doc)))


@app.command("on")
def turn_on(rule_id: RuleId, workspace: WorkspaceOption = "default") -> None:
    """Turn a rule on."""
    _print(_with_workspace(workspace, lambda _, s, ws: rule_store.set_enabled(s, ws, rule_id,
                                                                                True)))


@app.command("off")
def turn_off(rule_id: RuleId, workspace: WorkspaceOption = "default") -> None:
    """Turn a rule off; its running sequences send nothing more."""
    _print(_with_workspace(workspace, lambda _, s, ws: rule_store.set_enabled(s, ws, rule_id,
                                                                                False)))


@app.command("delete")
def delete(rule_id: RuleId, workspace: WorkspaceOption = "default") -> None:
    """Delete a rule; its running sequences send nothing more."""
    _with_workspace(workspace, lambda _, s, ws: rule_store.delete(s, ws, rule_id))
    console.print(f"rule {rule_id} deleted")


@app.command("webhook")
def webhook(
    url: Annotated[str | None, typer.Option(help="The host platform's endpoint for rule "
                                            "webhooks: https, at a public address unless "
                                            "the deployment allows others.")] = None,
    secret_env: Annotated[str | None, typer.Option(
        help="The environment variable holding the signing secret (16+ characters).")]
    = None,
    off: Annotated[bool, typer.Option("--off", help="Stop sending rule webhooks.")] = False,
    workspace: WorkspaceOption = "default",
) -> None:
    """Show, set (--url with --secret-env) or clear (--off) where rule webhooks go."""
    if off and url is not None:
        raise fail("give --url or --off, not both")
    secret = None
    if url is not None:
        if secret_env is None or not os.environ.get(secret_env):
            raise fail("--url needs --secret-env naming a set environment variable")
        secret = os.environ[secret_env]

    def work(settings: Settings, session: Session, workspace_id: int) -> str:
        if url is not None or off:
            outbound_store.configure(settings, session, workspace_id, url, secret)
        target = outbound_store.target(settings, session, workspace_id)
        return f"rule webhooks go to {target.url}" if target else "no rule webhooks are sent"

    console.print(_with_workspace(workspace, work, secrets=True))


@app.command("deliveries")
def deliveries(workspace: WorkspaceOption = "default",
               limit: Annotated[int, typer.Option(min=1, max=500)] = 50) -> None:
    """The newest rule webhook attempts: when, which delivery, what the platform said."""
    rows = _with_workspace(workspace, lambda _, s, ws: outbound_store.deliveries(s, ws, limit))
    table = Table("at", "key", "attempt", "status", "delivered", "error")
    for row in rows:
        table.add_row(row.created_at.isoformat(timespec="seconds"), row.key, str(row.attempt),
                      str(row.status_code or "-"), "yes" if row.delivered else "no", row.error)
    console.print(table)
