"""Malformed expressions: the position, what was found and what was expected; and
fuzzers proving that nothing but SegmentError ever escapes the parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revsync.segments import MAX_DEPTH, MAX_LENGTH, SegmentError, parse
from tests.segments.strategies import token_soups

VALUE = "(number, quoted string or word)"
CONDITION = "a condition (like mrr >= 50), NOT or '('"
OPERATORS = "a comparison operator (= != > >= < <=)"


@pytest.mark.parametrize("text, position, message", [
    ("mrr >=", 7, f"expected a value after '>=' {VALUE}, found end of input"),
    ("ltv >=  ", 9, f"expected a value after '>=' {VALUE}, found end of input"),
    ("", 1, f"expected {CONDITION}, found end of input"),
    ("   ", 4, f"expected {CONDITION}, found end of input"),
    ("mrr", 4, f"expected {OPERATORS} after 'mrr', found end of input"),
    ("mrr 5", 5, f"expected {OPERATORS} after 'mrr', found '5'"),
    ("mrr ( 5", 5, f"expected {OPERATORS} after 'mrr', found '('"),
    ("mrr >= 50 AND", 14, f"expected {CONDITION} after 'AND', found end of input"),
    ("mrr >= 50 OR OR ltv > 1", 14, f"expected {CONDITION} after 'OR', found 'OR'"),
    ("NOT", 4, f"expected {CONDITION} after 'NOT', found end of input"),
    ("AND mrr > 1", 1, f"expected {CONDITION}, found 'AND'"),
    ("= 5", 1, f"expected {CONDITION}, found '='"),
    (") mrr > 1", 1, f"expected {CONDITION}, found ')'"),
    ("mrr > 5 ltv > 6", 9, "expected AND, OR or end of input, found 'ltv'"),
    ("mrr > 5)", 8, "expected AND, OR or end of input, found ')'"),
    ("(mrr > 5", 9, "expected AND, OR or ')', found end of input"),
    ("((mrr > 5) AND ltv > 1", 23, "expected AND, OR or ')', found end of input"),
    ("mrr > 5 & ltv > 1", 9, "expected AND, OR or end of input, found '&'"),
    ("mrr > 5 && ltv > 1", 9, "expected AND, OR or end of input, found '&'"),
    ("mrr > 5 AND (ltv > 1 |", 22, "expected AND, OR or ')', found '|'"),
    ("tag = ", 7, f"expected a value after '=' {VALUE}, found end of input"),
    ("tag = (x)", 7, f"expected a value after '=' {VALUE}, found '('"),
    ("tag = and", 7, f"expected a value after '=' {VALUE}, found 'and'"),
    ("mrr = ,", 7, f"expected a value after '=' {VALUE}, found ','"),
    ("mrr => 5", 5, "unknown operator '=>'; use one of = != > >= < <="),
    ("mrr == 5", 5, "unknown operator '=='; use one of = != > >= < <="),
    ("mrr <> 5", 5, "unknown operator '<>'; use one of = != > >= < <="),
    ("mrr ! 5", 5, "unknown operator '!'; use one of = != > >= < <="),
    ("mrr LIKE 5", 5, f"expected {OPERATORS} after 'mrr', found 'LIKE'"),
    ("tag > churned", 5, "tag takes = (has the tag) or != (does not have it), not '>'"),
    ("tag <= 5", 5, "tag takes = (has the tag) or != (does not have it), not '<='"),
    ("mrr = abc", 7, "mrr is compared with a number, found 'abc'"),
    ("ltv > '500'", 7, "ltv is compared with a number, found ''500''"),
    ("mrr > 1e5", 7, "mrr is compared with a number, found '1e5'"),
    ("mrr > 5.", 7, "mrr is compared with a number, found '5.'"),
    ("opened_emails_last_30_days > few", 30,
     "opened_emails_last_30_days is compared with a number, found 'few'"),
    ("5 = mrr", 1, "expected an attribute name (like mrr, tag or a metadata key), found '5'"),
    ("-x = 1", 1, "expected an attribute name (like mrr, tag or a metadata key), found '-x'"),
    ('plan = "pro', 8, 'this quoted string is never closed (add the closing ")'),
    ("plan = 'pro\\'", 8, "this quoted string is never closed (add the closing ')"),
    ("plan = 'a\\qb'", 10, "unknown escape '\\q' in a quoted string; use \\\\ \\\" \\' \\n "
                           "\\t or \\r"),
    ("mrr > 1234567890123456789", 7, "numbers have at most 18 digits before and after the "
                                     "point; quote it to compare as text"),
    ("mrr > 1.1234567890123456789", 7, "numbers have at most 18 digits before and after "
                                       "the point; quote it to compare as text"),
    ("plan = 'a\x00'", 10, "control character U+0000 is not allowed"),
    ("mrr > 5 é", 9, "expected AND, OR or end of input, found 'é'"),
])
def test_malformed_expressions(text: str, position: int, message: str) -> None:
    with pytest.raises(SegmentError) as caught:
        parse(text)
    assert caught.value.position == position
    assert caught.value.message == message
    assert str(caught.value) == f"position {position}: {message}"


def test_error_parts_for_an_api() -> None:
    with pytest.raises(SegmentError) as caught:
        parse("mrr >= 50 AND mrr <")
    assert caught.value.as_dict() == {
        "message": f"position 20: expected a value after '<' {VALUE}, found end of input",
        "position": 20, "found": None, "expected": f"a value after '<' {VALUE}"}
    with pytest.raises(SegmentError) as caught:
        parse("mrr >= 50 AND mrr < 5 x")
    assert (caught.value.found, caught.value.expected) == ("x", "AND, OR or end of input")


def test_length_limit() -> None:
    long = " OR ".join(["mrr > 1"] * 180)
    assert len(long) <= MAX_LENGTH
    parse(long)
    too_long = long + " OR ltv > 1" * 40
    with pytest.raises(SegmentError, match=f"position {MAX_LENGTH + 1}: the expression is "
                                           f"longer than {MAX_LENGTH} characters"):
        parse(too_long)


def test_nesting_limit() -> None:
    parse("(" * MAX_DEPTH + "mrr > 1" + ")" * MAX_DEPTH)
    with pytest.raises(SegmentError, match=f"nested more than {MAX_DEPTH} levels") as caught:
        parse("(" * (MAX_DEPTH + 1) + "mrr > 1" + ")" * (MAX_DEPTH + 1))
    assert caught.value.position == MAX_DEPTH + 1
    with pytest.raises(SegmentError, match="nested more than"):
        parse("NOT " * 400 + "mrr > 1")
    with pytest.raises(SegmentError, match="nested more than"):
        parse("(" * 990 + "mrr > 1" + ")" * 990)  # no RecursionError


def _parses_or_fails_cleanly(text: str) -> None:
    try:
        parse(text)
    except SegmentError as error:
        assert 1 <= error.position <= len(text) + 1
        assert str(error).startswith(f"position {error.position}: ")


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_segment_error(text: str) -> None:
    _parses_or_fails_cleanly(text)


@settings(max_examples=1000)
@given(token_soups())
def test_token_soups_parse_or_raise_segment_error(text: str) -> None:
    _parses_or_fails_cleanly(text)
