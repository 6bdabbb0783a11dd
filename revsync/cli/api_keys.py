"""`revsync api-keys create|list|revoke`: a workspace's JSON API keys from the shell,
the same as the platform's /api/workspaces/<workspace>/api-keys routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from revsync.cli.common import WorkspaceOption, fail, load_settings, workspace_or_fail
from revsync.cli.console import console
from revsync.credentials import api_keys
from revsync.store import db
from revsync.store.models import utcnow

app = typer.Typer(help="API keys of one workspace's JSON API (read: GET only; write: "
                       "everything but credentials). The platform key mints them over "
                       "HTTP too.", no_args_is_help=True)


@contextmanager
def _workspace(name: str) -> Iterator[tuple[Session, int]]:
    """A session and the named workspace's id (exit 2 if there is none)."""
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        workspace_id = workspace_or_fail(session, name).id
        assert workspace_id is not None
        yield session, workspace_id


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the key is for (shown in lists).")],
    scope: Annotated[Literal["read", "write"], typer.Option(help="read or write.")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Mint a key; its secret is printed this once and never stored."""
    with _workspace(workspace) as (session, ws_id):
        try:
            key, secret = api_keys.create(session, ws_id, name, scope, utcnow())
        except api_keys.ApiKeyError as error:
            raise fail(escape(str(error))) from None
    console.print(f"created API key {key.id} ({key.scope}); its secret, shown once:",
                  markup=False)
    console.print(secret, markup=False, soft_wrap=True)


@app.command("list")
def listed(workspace: WorkspaceOption = "default") -> None:
    """Every key of the workspace, revoked ones included (never a secret)."""
    with _workspace(workspace) as (session, ws_id):
        keys = [api_keys.public(k) for k in api_keys.listed(session, ws_id)]
    table = Table("id", "name", "scope", "prefix", "created", "last used", "revoked")
    for k in keys:
        table.add_row(*(escape(str(k[c] or "-")) for c in (
            "id", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at")))
    console.print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (from `list`).", min=1)],
    workspace: WorkspaceOption = "default",
) -> None:
    """Revoke a key: refused from its next request on."""
    with _workspace(workspace) as (session, ws_id):
        try:
            api_keys.revoke(session, ws_id, key_id, utcnow())
        except api_keys.ApiKeyError as error:
            raise fail(escape(str(error))) from None
    console.print(f"API key {key_id} revoked", markup=False)
