"""The alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import revsync.store.models  # noqa: F401
from revsync.settings import Settings
from revsync.store import db


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    with db.get_engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    db.migrate(url)
    db.migrate(url)
