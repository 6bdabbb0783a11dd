"""`subscriber_metadata` follows `subscriber.stripe_metadata` through the database's
triggers, from any writer, and the migration that adds it fills it for the subscribers
already stored."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from sqlalchemy import text

from revsync.settings import Settings
from revsync.store import db
from tests.store.rows import SUBSCRIBER, add_people, add_workspace, run

Rows = set[tuple[int, str, int, str, Decimal | None]]


def rows(url: str) -> Rows:
    with db.get_engine(url).connect() as conn:
        found = conn.execute(text("SELECT subscriber_id, key, workspace_id, value, number "
                                  "FROM subscriber_metadata")).all()
    return {(s, k, w, v, None if n is None else Decimal(str(n))) for s, k, w, v, n in found}


def metadata(url: str, subscriber_id: int, document: str) -> None:
    run(url, f"UPDATE subscriber SET stripe_metadata = '{document}' WHERE id = {subscriber_id}")


def test_rows_follow_inserts_updates_and_deletes(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)  # three subscribers with {"plan": "pro", "seats": "5"}
    assert rows(url) == {(n, k, 1, v, num) for n in (1, 2, 3)
                         for k, v, num in (("plan", "pro", None), ("seats", "5", Decimal(5)))}
    metadata(url, 1, '{"plan": "enterprise", "region": "eu"}')
    metadata(url, 2, "{}")
    run(url, "DELETE FROM subscriber WHERE id = 3")
    assert rows(url) == {(1, "plan", 1, "enterprise", None), (1, "region", 1, "eu", None)}


def test_one_statement_over_many_subscribers_rewrites_only_the_changed_ones(
        database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    add_people(url)
    run(url, """UPDATE subscriber SET stripe_metadata = CASE id WHEN 1 THEN '{"seats": "7"}'
                ELSE stripe_metadata END""",
        "UPDATE subscriber SET id = 20 WHERE id = 2")
    assert rows(url) == {(1, "seats", 1, "7", Decimal(7)),
                         (20, "plan", 1, "pro", None), (20, "seats", 1, "5", Decimal(5)),
                         (3, "plan", 1, "pro", None), (3, "seats", 1, "5", Decimal(5))}
    run(url, "DELETE FROM subscriber WHERE id IN (1, 3)")
    assert {subscriber for subscriber, _, _, _, _ in rows(url)} == {20}


def test_a_number_is_a_plain_decimal_and_null_is_missing(database_url: str) -> None:
    """The segment parser's number rule, `-?[0-9]+(\\.[0-9]+)?`: "1e3", " 5", "5." and
    "-" are text only; a key holding JSON null has no row, as it has no value."""
    url = Settings(database_url=database_url).resolved_database_url
    add_workspace(url)
    document = ('{"a": "007", "b": "-3.50", "c": "1e3", "d": " 5", "e": "5.", "f": "-", '
                '"g": "1.2.3", "h": "4-2", "i": "", "j": null}')
    run(url, SUBSCRIBER.replace(":meta", f"'{document}'").replace(":id", "1")
        .replace(":email", "'p1@x.test'"))
    numbers = {key: number for _, key, _, _, number in rows(url)}
    assert numbers == {"a": Decimal(7), "b": Decimal("-3.5"), "c": None, "d": None,
                       "e": None, "f": None, "g": None, "h": None, "i": None}


def test_the_migration_fills_the_rows_of_subscribers_already_stored(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    config = db.alembic_config(url)
    command.downgrade(config, "0008")
    add_people(url)
    run(url, """UPDATE subscriber SET stripe_metadata = '{"seats": "12.5"}' WHERE id = 2""")
    command.upgrade(config, "head")
    assert rows(url) == {(1, "plan", 1, "pro", None), (1, "seats", 1, "5", Decimal(5)),
                         (2, "seats", 1, "12.5", Decimal("12.5")),
                         (3, "plan", 1, "pro", None), (3, "seats", 1, "5", Decimal(5))}
    metadata(url, 2, '{"seats": "13"}')  # and the triggers keep them from then on
    assert (2, "seats", 1, "13", Decimal(13)) in rows(url)
