"""The alembic migration creates exactly the schema the models describe, drops all of it
again, runs again harmlessly, and runs from several processes at once on a fresh
database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

import revsync.store.models  # noqa: F401
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Workspace, exists_on
from tests.conftest import reset_postgres
from tests.helpers.e2e import ROOT

PROCESSES = 6


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()


def current_revision(url: str) -> str | None:
    with db.get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    assert schema_diff(url) == []


def schema_diff(url: str) -> list[object]:
    with db.get_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": exists_on(connection.dialect.name)})
        found: list[object] = compare_metadata(context, SQLModel.metadata)
    return found


def test_downgrading_to_nothing_removes_everything_and_upgrading_restores_it(
        database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    config = db.alembic_config(url)
    command.downgrade(config, "base")
    engine = db.get_engine(url)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            functions = "SELECT count(*) FROM pg_proc WHERE proname = 'subscriber_tag_bits'"
        else:
            functions = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        assert connection.execute(text(functions)).scalar() == 0
    command.upgrade(config, "head")
    assert current_revision(url) == head_revision(url)
    assert schema_diff(url) == []


def test_migrating_again_keeps_the_revision_and_the_rows(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    with db.session(url) as session:
        workspaces.get_or_create(session, "kept")
    db.migrate(url)
    db.migrate(url)
    assert current_revision(url) == head_revision(url) is not None
    with db.session(url) as session:
        assert session.exec(select(Workspace.name)).all() == ["kept"]


MIGRATE = "import sys; from revsync.store import db; db.migrate(sys.argv[1])"


def migrate_at_once(url: str) -> list[tuple[int, str]]:
    """Start PROCESSES processes that each migrate `url`, all before any finishes."""
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATE, url], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(PROCESSES)]
    return [(p.wait(timeout=300), (p.stdout.read() if p.stdout else "")) for p in processes]


@pytest.mark.parametrize("attempt", range(3))
def test_processes_started_together_on_a_fresh_sqlite_file_all_migrate(
    tmp_path: Path, attempt: int
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    outcomes = migrate_at_once(url)
    assert [code for code, _ in outcomes] == [0] * PROCESSES, outcomes
    assert current_revision(url) == head_revision(url)


@pytest.mark.parametrize("attempt", range(3))
def test_processes_started_together_on_a_fresh_postgres_database_all_migrate(
    postgres_url: str, attempt: int
) -> None:
    reset_postgres(postgres_url)
    url = Settings(database_url=postgres_url).resolved_database_url
    outcomes = migrate_at_once(url)
    assert [code for code, _ in outcomes] == [0] * PROCESSES, outcomes
    assert current_revision(url) == head_revision(url)
