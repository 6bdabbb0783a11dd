"""What every command shares: the workspace option, errors, settings, list parsing."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from sqlmodel import Session

from revsync.cli.console import console
from revsync.settings import Settings
from revsync.store import db, keystore, workspaces
from revsync.store.models import Workspace

WorkspaceOption = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def load_settings(secrets: bool = False) -> Settings:
    """Settings, with a readable error instead of a traceback for bad values; with
    `secrets`, for a command that encrypts or decrypts them, once the key is known to
    read the stored ones (else exit 1 saying why; 2 for a value that is no key)."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise fail(f"invalid settings: {problems}") from None
    try:
        db.migrate(settings.resolved_database_url)
    except db.DatabaseUnavailable as error:
        raise fail(str(error), code=1) from None
    if secrets:
        try:
            keystore.check(settings)
        except keystore.KeyStoreError as error:
            raise fail(str(error), code=error.exit_code) from None
    return settings


def csv_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def pairs(value: str | None) -> dict[str, str]:
    """`a=1,b=2` -> {"a": "1", "b": "2"}; a part without `=` keeps an empty value to reject."""
    return {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in csv_list(value))}


def workspace_or_fail(session: Session, name: str) -> Workspace:
    """The named workspace, or exit 2 saying it does not exist."""
    try:
        workspace = workspaces.by_name(session, name)
    except workspaces.WorkspaceError as error:
        raise fail(escape(str(error))) from None  # a name may hold rich markup
    assert workspace.id is not None
    return workspace
