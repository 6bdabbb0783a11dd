"""Hypothesis strategies: syntax trees over the test data set's attributes, and raw
token soups that reach the parser's deeper error states."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from revsync.segments import And, Comparison, Expr, Not, Number, Or, Text
from revsync.segments.nodes import OPERATORS

MONEY_VALUES = [Decimal(v) for v in ("0", "5", "49.99", "50", "75.5", "100", "120", "200",
                                     "500", "501", "1000", "1000.01", "-1")]
COUNT_VALUES = [Decimal(v) for v in ("0", "0.5", "1", "2", "3", "-1")]
TAGS = ["customer", "churned", "trial", "vip", "past-due", "saas.yearly", "nope"]
METADATA_TEXT = ["pro", "pro ", "basic", "5", "5.0", "10", "many", "-3", "1e3", "007", "",
                 "trial", "zzz"]
METADATA_NUMBERS = [Decimal(v) for v in ("5", "4", "0", "-3", "7", "10", "1000", "4.5")]
OPS = st.sampled_from(OPERATORS)


def _leaf() -> st.SearchStrategy[Expr]:
    money = st.builds(Comparison, st.sampled_from(["mrr", "ltv"]), OPS,
                      st.sampled_from(MONEY_VALUES).map(Number))
    counts = st.builds(Comparison, st.sampled_from(["opened_emails_last_30_days",
                                                    "clicked_emails_last_30_days"]), OPS,
                       st.sampled_from(COUNT_VALUES).map(Number))
    tags = st.builds(Comparison, st.just("tag"), st.sampled_from(["=", "!="]),
                     st.sampled_from(TAGS).map(Text))
    metadata = st.builds(Comparison, st.sampled_from(["plan", "seats", "absent"]), OPS,
                         st.one_of(st.sampled_from(METADATA_TEXT).map(Text),
                                   st.sampled_from(METADATA_NUMBERS).map(Number)))
    return st.one_of(money, counts, tags, metadata)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    group = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), group.map(And), group.map(Or))


def expressions(leaf: st.SearchStrategy[Expr] | None = None) -> st.SearchStrategy[Expr]:
    """Trees of at most 8 comparisons over the data set's attributes (or `leaf`)."""
    return st.recursive(leaf if leaf is not None else _leaf(), _combine, max_leaves=8)


def _marked_text() -> st.SearchStrategy[str]:
    """User text with a marker that no SQL the compiler writes contains."""
    return st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12).map(
        lambda s: "ZQ" + s) | st.sampled_from(["ZQ'; DROP TABLE subscriber; --", 'ZQ"', "ZQ\\",
                                               "ZQ\n\t"])


def marked_leaves() -> st.SearchStrategy[Expr]:
    """Comparisons whose every user-chosen value or key carries a marker."""
    keys = st.from_regex(r"[A-Za-z0-9_.\-]{0,10}", fullmatch=True).map(lambda s: "zq" + s)
    numbers = st.integers(100, 10**9).map(Decimal) | st.decimals(
        min_value=100, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
    return st.one_of(
        st.builds(Comparison, st.sampled_from(["mrr", "ltv", "opened_emails_last_30_days"]),
                  OPS, numbers.map(Number)),
        st.builds(Comparison, st.just("tag"), st.sampled_from(["=", "!="]),
                  _marked_text().map(Text)),
        st.builds(Comparison, keys, OPS, st.one_of(_marked_text().map(Text),
                                                   numbers.map(Number))),
    )


VOCABULARY = ["mrr", "ltv", "tag", "plan", "opened_emails_last_30_days", "AND", "or", "Not",
              "(", ")", "=", "!=", ">", ">=", "<", "<=", "=>", "==", "!", "5", "-4.50", "1e5",
              "0.", "customer", "past-due", "saas.yearly", "'x'", '"a\\"b"', '"open', "'\\q'",
              "&", "|", ",", ".", "-", "\n", "é", "'", '"']


def _keyword(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word.upper(), word.lower(), word.capitalize()])


def _quoted(value: str) -> st.SearchStrategy[str]:
    escaped = value.replace("\\", "\\\\")
    return st.sampled_from(['"' + escaped.replace('"', '\\"') + '"',
                            "'" + escaped.replace("'", "\\'") + "'"])


def _comparison_text() -> st.SearchStrategy[str]:
    """One comparison written the way a user might: any case, quoting style, spacing."""
    gap = st.sampled_from(["", " ", "  "])
    number = st.sampled_from(["0", "5", "49.99", "500", "-3", "1000.01", "007"])
    word = st.sampled_from(["customer", "past-due", "saas.yearly", "pro", "x_1"])
    text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
    any_op = st.sampled_from(OPERATORS)
    triple = st.one_of(
        st.tuples(st.sampled_from(["mrr", "LTV", "Mrr", "opened_emails_last_30_days"]), any_op,
                  number),
        st.tuples(st.sampled_from(["tag", "TAG"]), st.sampled_from(["=", "!="]),
                  word | text.flatmap(_quoted)),
        st.tuples(st.sampled_from(["plan", "seats", "Plan.v2"]), any_op,
                  number | word | text.flatmap(_quoted)),
    )
    return st.tuples(triple, gap, gap).map(
        lambda t: f"{t[0][0]}{t[1]}{t[0][1]}{t[2]}{t[0][2]}")


def expression_texts() -> st.SearchStrategy[str]:
    """Valid expression text built from the grammar, independently of the parser."""

    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(children, children)
        return st.one_of(
            st.tuples(_keyword("not"), children).map(lambda t: f"{t[0]} ({t[1]})"),
            st.tuples(pair, _keyword("and")).map(lambda t: f"({t[0][0]}) {t[1]} ({t[0][1]})"),
            st.tuples(pair, _keyword("or")).map(lambda t: f"{t[0][0]} {t[1]} {t[0][1]}"),
        )

    return st.recursive(_comparison_text(), combine, max_leaves=6)


def token_soups() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(VOCABULARY), max_size=12).flatmap(
        lambda parts: st.lists(st.sampled_from(["", " ", "  "]), min_size=len(parts),
                               max_size=len(parts)).map(
            lambda gaps: "".join(g + p for g, p in zip(gaps, parts, strict=True))))
