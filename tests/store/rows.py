"""Rows written with plain SQL, so they fit the schema before a migration as well as
after it (the triggers' tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, Numeric, Table, text

from revsync.settings import Settings
from revsync.store import db
from tests.conftest import reset_postgres

SUBSCRIBER = ("INSERT INTO subscriber (id, workspace_id, email, email_norm, attributes, "
              "stripe_metadata, stripe_customer_ids, unsubscribed, updated_at) VALUES "
              "(:id, 1, :email, :email, '{}', :meta, '[]', false, '2026-01-01')")


def run(url: str, *statements: str) -> None:
    with db.get_engine(url).begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def add_workspace(url: str) -> None:
    """Workspace 1, "shop", through the table as the database has it (so at an older
    revision too): every required column gets an empty value of its type."""
    engine = db.get_engine(url)
    table = Table("workspace", MetaData(), autoload_with=engine)
    values: dict[str, object] = {"id": 1, "name": "shop", "fx_rates": {},
                                 "mrr_statuses": ["active", "trialing"]}
    for column in table.columns:
        if column.name not in values and not column.nullable and column.server_default is None:
            values[column.name] = _empty(column.type)
    with engine.begin() as conn:
        conn.execute(table.insert().values(**values))


def _empty(kind: object) -> object:
    if isinstance(kind, JSON):
        return []
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, Integer | Float | Numeric):
        return 1
    return ""


def add_people(url: str) -> None:
    """Workspace 1 and three subscribers, each with the same metadata (plain SQL, so it
    runs on the schema before migration 0008 too)."""
    add_workspace(url)
    with db.get_engine(url).begin() as conn:
        for n in (1, 2, 3):
            conn.execute(text(SUBSCRIBER), {"id": n, "email": f"p{n}@x.test",
                                            "meta": '{"plan": "pro", "seats": "5"}'})


def database_at(kind: str, revision: str, tmp_path: Path,
                request: pytest.FixtureRequest) -> str:
    """A new SQLite file or the session's PostgreSQL database, migrated to `revision`."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    url = Settings(database_url=url).resolved_database_url
    command.upgrade(db.alembic_config(url), revision)
    return url
