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
        if isinstance(c.value, Text):
            assert c.value.value in params
        elif kind(c.attribute) in (Kind.MONEY, Kind.METADATA):
            assert any(isinstance(p, Decimal) and p == c.value.value for p in params)
        if kind(c.attribute) is Kind.METADATA:
            assert c.attribute in params


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
