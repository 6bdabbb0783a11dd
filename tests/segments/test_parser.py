"""The parser on valid input: hand-written expected trees for every documented form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given

from revsync.segments import And, Comparison, Expr, Not, Number, Or, Text, parse, to_text
from tests.segments.strategies import expressions, marked_leaves


def c(attribute: str, op: str, value: str | int) -> Comparison:
    return Comparison(attribute, op,  # type: ignore[arg-type]
                      Number(Decimal(value)) if isinstance(value, int) else Text(value))


def n(attribute: str, op: str, value: str) -> Comparison:
    return Comparison(attribute, op, Number(Decimal(value)))  # type: ignore[arg-type]


@pytest.mark.parametrize("text, tree", [
    ("mrr >= 100", c("mrr", ">=", 100)),
    ("ltv > 1000", c("ltv", ">", 1000)),
    ("mrr >= 50 AND mrr < 200", And((c("mrr", ">=", 50), c("mrr", "<", 200)))),
    ("tag = churned AND ltv > 500", And((c("tag", "=", "churned"), c("ltv", ">", 500)))),
    ("tag = trial AND mrr = 0", And((c("tag", "=", "trial"), c("mrr", "=", 0)))),
    ("mrr >= 50 AND opened_emails_last_30_days = 0",
     And((c("mrr", ">=", 50), c("opened_emails_last_30_days", "=", 0)))),
    ("mrr < 50 AND tag = customer", And((c("mrr", "<", 50), c("tag", "=", "customer")))),
    ("clicked_emails_last_30_days != 3", c("clicked_emails_last_30_days", "!=", 3)),
    ("mrr <= 49.99", n("mrr", "<=", "49.99")),
    ("ltv > -4.50", n("ltv", ">", "-4.50")),
])
def test_examples(text: str, tree: Expr) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize("text", [
    "mrr >= 50 and tag = customer", "mrr >= 50 AnD tag = customer", "MRR >= 50 AND TAG = customer",
    "Mrr>=50 aND\ttag=customer", "  mrr >= 50\nAND\n tag = customer  ",
])
def test_keywords_and_builtin_names_in_any_case(text: str) -> None:
    assert parse(text) == And((c("mrr", ">=", 50), c("tag", "=", "customer")))


def test_metadata_keys_keep_their_case_and_values_are_not_folded() -> None:
    assert parse("Plan = Pro") == c("Plan", "=", "Pro")
    assert parse("tag = CUSTOMER") == c("tag", "=", "CUSTOMER")


@pytest.mark.parametrize("text, value", [
    ("tag = 'churned'", "churned"),
    ('tag = "churned"', "churned"),
    ('plan = "it\'s"', "it's"),
    ("plan = 'it\\'s'", "it's"),
    ('plan = "say \\"hi\\""', 'say "hi"'),
    ("plan = 'back\\\\slash'", "back\\slash"),
    ("plan = 'a\\nb\\tc\\rd'", "a\nb\tc\rd"),
    ("plan = ''", ""),
    ("plan = 'AND OR NOT ( ) >= '", "AND OR NOT ( ) >= "),
    ("plan = 'ünïcödé ✓'", "ünïcödé ✓"),
    ("plan = '5'", "5"),  # quoted: text, not a number
])
def test_quoted_strings_and_escapes(text: str, value: str) -> None:
    tree = parse(text)
    assert isinstance(tree, Comparison) and tree.value == Text(value)


@pytest.mark.parametrize("text, tree", [
    ("tag = past-due", c("tag", "=", "past-due")),
    ("tag = saas.yearly", c("tag", "=", "saas.yearly")),
    ("tag != saas.monthly", c("tag", "!=", "saas.monthly")),
    ("plan = _x-1.2", c("plan", "=", "_x-1.2")),
    ("plan = 3d-printing", c("plan", "=", "3d-printing")),  # not a decimal: a word
    ("plan = 1e5", c("plan", "=", "1e5")),
    ("plan = notes", c("plan", "=", "notes")),  # a keyword prefix is still a word
    ("tag = 2024", c("tag", "=", "2024")),  # tags are text
    ("plan = 2024", c("plan", "=", 2024)),  # metadata: a decimal word is a number
    ("company.size-band = large", c("company.size-band", "=", "large")),
])
def test_bare_words(text: str, tree: Expr) -> None:
    assert parse(text) == tree


A, B, C_, D_ = (c("mrr", ">", 1), c("ltv", ">", 2), c("tag", "=", "x"), c("plan", "=", "y"))


@pytest.mark.parametrize("text, tree", [
    ("mrr > 1 OR ltv > 2 AND tag = x", Or((A, And((B, C_))))),
    ("mrr > 1 AND ltv > 2 OR tag = x", Or((And((A, B)), C_))),
    ("(mrr > 1 OR ltv > 2) AND tag = x", And((Or((A, B)), C_))),
    ("NOT mrr > 1 AND ltv > 2", And((Not(A), B))),
    ("NOT (mrr > 1 AND ltv > 2)", Not(And((A, B)))),
    ("NOT NOT mrr > 1", Not(Not(A))),
    ("mrr > 1 OR NOT ltv > 2 OR tag = x", Or((A, Not(B), C_))),
    ("mrr > 1 AND ltv > 2 AND tag = x AND plan = y", And((A, B, C_, D_))),
    ("mrr > 1 AND (ltv > 2 AND tag = x)", And((A, And((B, C_))))),
    ("((mrr > 1))", A),
    ("(mrr > 1 OR ltv > 2) AND (tag = x OR NOT plan = y)", And((Or((A, B)), Or((C_, Not(D_)))))),
    ("mrr>1 OR(ltv>2)AND(NOT(tag=x))", Or((A, And((B, Not(C_)))))),
])
def test_precedence_not_over_and_over_or(text: str, tree: Expr) -> None:
    assert parse(text) == tree


@given(expressions())
def test_canonical_text_parses_back_to_the_same_tree(tree: Expr) -> None:
    assert parse(to_text(tree)) == tree


@given(marked_leaves())
def test_canonical_text_round_trips_any_value(tree: Expr) -> None:
    assert parse(to_text(tree)) == tree
