"""`subscriber.tag_bits` follows `subscriber_tag` through the database's triggers, from
any writer, for the tags the code keeps as bits."""

from __future__ import annotations

import importlib.util

from sqlalchemy import text

from revsync.segments.tag_bits import TAG_BITS
from revsync.settings import Settings
from revsync.store import db
from revsync.store.db import MIGRATIONS_DIR
from tests.store.rows import add_people, run

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


def test_bits_follow_statements_of_many_rows(database_url: str) -> None:
    """PostgreSQL's triggers run once per statement: each subscriber a statement touched
    gets the bits of all its rows once the statement is done."""
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    run(url, "INSERT INTO subscriber_tag (subscriber_id, tag, source, workspace_id) VALUES "
             "(1, 'customer', 'stripe', 1), (1, 'saas.yearly', 'stripe', 1), "
             "(2, 'churned', 'stripe', 1), (2, 'customer', 'user', 1), (3, 'vip', 'user', 1)")
    assert bits(url) == {1: CUSTOMER | YEARLY, 2: CHURNED | CUSTOMER, 3: 0}
    run(url, "DELETE FROM subscriber_tag WHERE tag IN ('customer', 'vip')")
    assert bits(url) == {1: YEARLY, 2: CHURNED, 3: 0}
    run(url, "UPDATE subscriber_tag SET subscriber_id = 3")
    assert bits(url) == {1: 0, 2: 0, 3: CHURNED | YEARLY}


def test_the_triggers_know_the_tags_the_segments_read_as_bits() -> None:
    """Each migration writing the triggers keeps its own copy of the tags (0001 for
    SQLite's, 0008 for PostgreSQL's); a tag added to the code needs a revision that
    rewrites them."""
    assert migration_tag_bits("0001_initial_schema") == TAG_BITS
    assert migration_tag_bits("0008_statement_tag_bits") == TAG_BITS


def migration_tag_bits(name: str) -> dict[str, int]:
    path = MIGRATIONS_DIR / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: dict[str, int] = module.TAG_BITS
    return found
