"""The typed syntax tree of a segment expression (what the parser returns).

`And`/`Or` hold every operand of one chain (`a AND b AND c` is one `And`), so the
tree's depth follows the user's grouping, not the chain's length. Values are either
a `Number` (exact Decimal) or a `Text` (a quoted string or a bare word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeAlias

Op: TypeAlias = Literal["=", "!=", ">", ">=", "<", "<="]
OPERATORS: tuple[Op, ...] = ("=", "!=", ">", ">=", "<", "<=")


@dataclass(frozen=True)
class Number:
    value: Decimal


@dataclass(frozen=True)
class Text:
    value: str


Value: TypeAlias = Number | Text


@dataclass(frozen=True)
class Comparison:
    """`attribute op value`; built-in attribute names are stored lower-case."""

    attribute: str
    op: Op
    value: Value


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr: TypeAlias = Comparison | And | Or | Not

_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_KEYWORDS = frozenset({"and", "or", "not"})


def to_text(expr: Expr) -> str:
    """Canonical text that parses back to the same tree (fully parenthesised)."""
    if isinstance(expr, Comparison):
        return f"{expr.attribute} {expr.op} {_value_text(expr.value)}"
    if isinstance(expr, Not):
        return f"NOT ({to_text(expr.operand)})"
    joiner = " AND " if isinstance(expr, And) else " OR "
    return joiner.join(f"({to_text(operand)})" for operand in expr.operands)


def _value_text(value: Value) -> str:
    if isinstance(value, Number):
        return format(value.value, "f")
    if _BARE_WORD.fullmatch(value.value) and value.value.lower() not in _KEYWORDS:
        return value.value
    escaped = (value.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r"))
    return f'"{escaped}"'
