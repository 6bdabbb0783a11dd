"""Values and metadata keys never reach SQL as text: every one is a bound parameter,
on both dialects, for any valid expression."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.sql.compiler import Compiled

from revsync.segments import Comparison, Expr, Number, Text, parse
from revsync.segments.attributes import Kind, kind
from revsync.segments.nodes import And, Not, Or
from revsync.segments.sql import members_statement
from revsync.segments.tag_bits import TAG_BITS
from tests.segments.strategies import expression_texts, expressions, marked_leaves

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DIALECTS = (PGDialect_psycopg(), SQLiteDialect_pysqlite())  # type: ignore[no-untyped-call]


def comparisons(expr: Expr) -> list[Comparison]:
    if isinstance(expr, Comparison):
        return [expr]
    if isinstance(expr, Not):
        return comparisons(expr.operand)
    assert isinstance(expr, And | Or)
    return [c for operand in expr.operands for c in comparisons(operand)]


def compiled(expr: Expr) -> list[Compiled]:
    statement = members_statement(expr, 7, NOW, 0, 100)
    return [statement.compile(dialect=d) for d in DIALECTS]


def bound_values_present(expr: Expr, sql: Compiled) -> None:
    params = list(sql.params.values())
    for c in comparisons(expr):
        if contained(c, sql):  # the key and value travel as one JSON document parameter
            assert {c.attribute: c.value.value} in params
        elif kind(c.attribute) is Kind.TAG and isinstance(c.value, Text) \
                and c.value.value in TAG_BITS:  # a Stripe-managed tag: its bit, bound
            assert TAG_BITS[c.value.value] in params
        elif isinstance(c.value, Text):
            assert c.value.value in params
        elif kind(c.attribute) in (Kind.MONEY, Kind.METADATA):
            assert any(isinstance(p, Decimal) and p == c.value.value for p in params)
        if kind(c.attribute) is Kind.METADATA and not contained(c, sql):
            assert c.attribute in params


def contained(c: Comparison, sql: Compiled) -> bool:
    """Metadata text equality on PostgreSQL: JSONB containment, for its GIN index."""
    return (sql.dialect.name == "postgresql" and kind(c.attribute) is Kind.METADATA
            and c.op == "=" and isinstance(c.value, Text))


@settings(max_examples=300)
@given(expressions(marked_leaves()))
def test_marked_values_and_keys_are_only_bound_parameters(expr: Expr) -> None:
    for sql in compiled(expr):
        text = str(sql)
        assert "'" not in text  # no string literal at all
        assert "ZQ" not in text and "zq" not in text
        for c in comparisons(expr):
            if isinstance(c.value, Number):
                assert format(c.value.value, "f") not in text
        bound_values_present(expr, sql)


@settings(max_examples=500)
@given(expression_texts())
def test_any_valid_text_compiles_with_bound_parameters_only(text: str) -> None:
    expr = parse(text)  # the strategy writes valid expressions only: this must not raise
    for sql in compiled(expr):
        assert "'" not in str(sql)
        bound_values_present(expr, sql)


def test_the_workspace_and_page_are_bound_too() -> None:
    for sql in compiled(parse("mrr > 123456")):
        assert "123456" not in str(sql) and Decimal("123456") in sql.params.values()
        assert 7 in sql.params.values() and 100 in sql.params.values()


def test_sqlite_keeps_id_order_where_a_subquery_runs_per_subscriber() -> None:
    # A revenue index would make SQLite probe the event index in mrr order (2.4x slower
    # at a million subscribers), so revenue columns are written `+ mrr` there.
    def sqlite_sql(text: str) -> str:
        return str(members_statement(parse(text), 7, NOW, 0, 100).compile(
            dialect=DIALECTS[1]))

    assert "+ subscriber.mrr" in sqlite_sql("mrr >= 50 AND opened_emails_last_30_days > 3")
    assert "+ subscriber.ltv" in sqlite_sql("ltv > 5 AND tag = vip")  # no bit: a subquery
    assert "+ subscriber" not in sqlite_sql("mrr >= 50 AND tag = customer")  # a bit
    # the latest open on the row settles it (the events only for a latest after now)
    assert "+ subscriber" not in sqlite_sql("mrr >= 50 AND opened_emails_last_30_days = 0")
    postgresql = str(members_statement(parse("mrr >= 50 AND opened_emails_last_30_days > 3"),
                                       7, NOW, 0, 100).compile(dialect=DIALECTS[0]))
    assert "+ subscriber" not in postgresql
