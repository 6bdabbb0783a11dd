"""Segments evaluated on real databases (SQLite and PostgreSQL) over the hand-built
data set in `dataset.py`: exact member emails written by hand, then a property test
against the Python oracle in `reference.py`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revsync.segments import Comparison, Expr, Number, parse
from revsync.segments.nodes import OPERATORS
from revsync.segments.sql import count_statement, members_statement
from revsync.store import db
from tests.segments import dataset
from tests.segments.reference import holds
from tests.segments.strategies import COUNT_VALUES, expressions


@pytest.fixture
def loaded(database_url: str) -> tuple[str, int]:
    return database_url, dataset.load(database_url)


def members(loaded: tuple[str, int], expr: Expr, now: datetime = dataset.NOW) -> list[str]:
    url, workspace_id = loaded
    with db.session(url) as session:
        rows = session.execute(members_statement(expr, workspace_id, now, 0, 500))
        found = [row.email.split("@")[0] for row in rows]
        count = session.execute(count_statement(expr, workspace_id, now)).scalar_one()
    assert count == len(found)
    return found


CASES = [
    # the examples in docs/segments.md
    ("mrr >= 100", "a f i"),
    ("ltv > 1000", "a f i"),  # h has exactly 1000.00
    ("mrr >= 50 AND mrr < 200", "a g i j"),
    ("tag = churned AND ltv > 500", "c f h"),  # f's churned tag is a user tag
    ("tag = trial AND mrr = 0", "e"),  # d is on trial without mrr
    ("mrr >= 50 AND opened_emails_last_30_days = 0", "g j"),  # i opened exactly 30 days ago
    # the defaults
    ("mrr < 50 AND tag = customer", "b"),
    ("ltv > 500", "a b c f g h i"),
    # missing attributes: the comparison is false, so its negation is true
    ("NOT (mrr > 5)", "c d e h"),
    ("NOT mrr > 5", "c d e h"),
    ("mrr != 0", "a b f g i j"),
    ("NOT mrr != 0", "c d e h"),
    ("ltv <= 1000", "b c e g h"),
    # tags: any source; != means "does not have it"
    ("tag = vip", "c"),
    ("tag != churned", "a b d e g i j"),
    ("tag = past-due OR tag = saas.yearly", "f g"),
    ("tag = CUSTOMER", ""),
    ("(tag = customer OR tag = trial) AND NOT ltv > 500", "d e j"),
    ("tag = trial OR tag = churned AND mrr = 0", "c d e"),
    # engagement: [now - 30 days, now], future events left out
    ("clicked_emails_last_30_days >= 1", "a h"),
    ("opened_emails_last_30_days > 0 OR clicked_emails_last_30_days > 0", "a d f h i"),
    ("opened_emails_last_30_days = 1", "d f i"),
    ("opened_emails_last_30_days >= 2", "a"),
    ("opened_emails_last_30_days < 1", "b c e g h j"),
    ("NOT opened_emails_last_30_days = 0", "a d f i"),
    # metadata text
    ("plan = pro", "a"),
    ('plan = "pro "', "h"),
    ("plan != pro", "b e g h"),  # without a plan: false
    ("NOT plan = pro", "b c d e f g h i j"),
    ('plan = "5"', "g"),
    ('seats >= "5"', "b c"),  # code-point order: "10" < "5" < "5.0" < "many"
    ('seats < "1"', "f j"),  # "-3", "007"
    # metadata numbers: only plain decimals compare, numerically
    ("plan = 5", "g"),
    ("seats > 4", "a b j"),  # 10, 5.0, 007; not "many" nor "1e3"
    ("seats = 5", "b"),
    ("seats < 0", "f"),
    ("seats != 10", "b f j"),  # non-decimal "many"/"1e3" count as missing
    ("NOT seats > 4", "c d e f g h i"),
    ("absent = 1 OR absent != 1 OR absent = x", ""),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_members_by_hand(loaded: tuple[str, int], text: str, expected: str) -> None:
    assert members(loaded, parse(text)) == expected.split()


def test_the_oracle_agrees_with_the_hand_written_cases() -> None:
    for text, expected in CASES:
        got = [p.email.split("@")[0] for p in dataset.PEOPLE if holds(parse(text), p)]
        assert got == expected.split(), text


def test_keyset_pages(loaded: tuple[str, int]) -> None:
    url, workspace_id = loaded
    expr = parse("ltv > 500")
    seen: list[str] = []
    after = 0
    with db.session(url) as session:
        while True:
            rows = session.execute(members_statement(expr, workspace_id, dataset.NOW, after,
                                                     3)).all()
            seen += [row.email.split("@")[0] for row in rows]
            if len(rows) < 3:
                break
            after = rows[-1].id
    assert seen == ["a", "b", "c", "f", "g", "h", "i"]


def test_now_moves_the_window(loaded: tuple[str, int]) -> None:
    url, workspace_id = loaded
    later = dataset.NOW + dataset.D * 3  # f's open is now 32 days old, i's future one 2
    with db.session(url) as session:
        rows = session.execute(members_statement(parse("opened_emails_last_30_days = 1"),
                                                 workspace_id, later, 0, 100))
        assert [r.email.split("@")[0] for r in rows] == ["d", "i"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=expressions())
def test_sql_agrees_with_the_python_oracle(loaded: tuple[str, int], expr: Expr) -> None:
    expected = [p.email.split("@")[0] for p in dataset.PEOPLE if holds(expr, p)]
    assert members(loaded, expr) == expected


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=expressions(st.builds(
    Comparison, st.sampled_from(["opened_emails_last_30_days", "clicked_emails_last_30_days"]),
    st.sampled_from(OPERATORS), st.sampled_from(COUNT_VALUES).map(Number))),
    days=st.sampled_from([-41, -6, -3, -2, -1, 0, 1, 2, 10, 29, 31]))
def test_engagement_at_any_now_agrees_with_the_oracle(loaded: tuple[str, int], expr: Expr,
                                                      days: int) -> None:
    """The latest event on the row settles most tests; at an earlier `now` it is often
    after `now` (a future event) and the events are read instead."""
    shift = dataset.D * days
    people = [replace(p, events=[(kind, age + shift) for kind, age in p.events])
              for p in dataset.PEOPLE]
    expected = [p.email.split("@")[0] for p in people if holds(expr, p)]
    assert members(loaded, expr, dataset.NOW + shift) == expected
