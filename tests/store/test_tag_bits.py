"""`subscriber.tag_bits` follows `subscriber_tag` through the database's triggers, from
any writer, and migration 0008 fills it (and converts PostgreSQL metadata to JSONB) for
rows that existed before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from revsync.segments.tag_bits import TAG_BITS
from revsync.settings import Settings
from revsync.store import db
from tests.store.rows import add_people, database_at, run

CUSTOMER, CHURNED, YEARLY = TAG_BITS["customer"], TAG_BITS["churned"], TAG_BITS["saas.yearly"]


def bits(url: str) -> dict[int, int]:
    with db.get_engine(url).connect() as conn:
        return dict(conn.execute(text("SELECT id, tag_bits FROM subscriber")).all())


def test_bits_follow_inserts_deletes_and_updates_from_any_source(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    tag = "INSERT INTO subscriber_tag (subscriber_id, tag, source, workspace_id) VALUES "
    run(url, tag + "(1, 'customer', 'stripe', 1)", tag + "(1, 'saas.yearly', 'stripe', 1)",
        tag + "(1, 'vip', 'user', 1)", tag + "(2, 'churned', 'stripe', 1)",
        tag + "(2, 'churned', 'user', 1)")
    assert bits(url) == {1: CUSTOMER | YEARLY, 2: CHURNED, 3: 0}
    # One source drops churned; the other still holds it.
    run(url, "DELETE FROM subscriber_tag WHERE subscriber_id = 2 AND source = 'stripe'")
    assert bits(url)[2] == CHURNED
    run(url, "DELETE FROM subscriber_tag WHERE subscriber_id = 2")
    assert bits(url)[2] == 0
    # A tag not kept as a bit changes nothing; renaming and moving rows do.
    run(url, "DELETE FROM subscriber_tag WHERE tag = 'vip'")
    assert bits(url)[1] == CUSTOMER | YEARLY
    run(url, "UPDATE subscriber_tag SET tag = 'churned' WHERE subscriber_id = 1 "
             "AND tag = 'customer'")
    assert bits(url)[1] == CHURNED | YEARLY
    run(url, "UPDATE subscriber_tag SET subscriber_id = 3 WHERE subscriber_id = 1")
    assert bits(url) == {1: 0, 2: 0, 3: CHURNED | YEARLY}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_fills_bits_and_keeps_metadata_of_existing_rows(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = database_at(kind, "0007", tmp_path, request)
    add_people(url)
    tag = "INSERT INTO subscriber_tag (subscriber_id, tag, source, workspace_id) VALUES "
    run(url, tag + "(1, 'customer', 'stripe', 1)", tag + "(1, 'churned', 'user', 1)",
        tag + "(2, 'webinar', 'user', 1)")
    db.migrate(url)
    assert bits(url) == {1: CUSTOMER | CHURNED, 2: 0, 3: 0}
    with db.get_engine(url).connect() as conn:
        plans = conn.execute(text("SELECT stripe_metadata FROM subscriber ORDER BY id")).all()
    assert [row[0] if isinstance(row[0], dict) else json.loads(row[0])
            for row in plans] == [{"plan": "pro", "seats": "5"}] * 3
