"""Rows written with plain SQL, so they fit the schema before a migration as well as
after it (the triggers' tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from revsync.settings import Settings
from revsync.store import db, workspaces
from tests.conftest import reset_postgres

SUBSCRIBER = ("INSERT INTO subscriber (id, workspace_id, email, email_norm, attributes, "
              "stripe_metadata, stripe_customer_ids, unsubscribed, updated_at) VALUES "
              "(:id, 1, :email, :email, '{}', :meta, '[]', false, '2026-01-01')")


def run(url: str, *statements: str) -> None:
    with db.get_engine(url).begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def add_people(url: str) -> None:
    """Workspace 1 and three subscribers, each with the same metadata (plain SQL, so it
    runs on the schema before migration 0008 too)."""
    with db.session(url) as session:
        assert workspaces.get_or_create(session, "shop").id == 1
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
