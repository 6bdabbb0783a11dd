"""The segment semantics in plain Python, over plain records: the oracle that the
compiled SQL is checked against on both databases."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from revsync.segments import And, Comparison, Expr, Not, Number, Or, Text

DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
WINDOW = timedelta(days=30)
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le,
}


@dataclass
class Person:
    email: str
    mrr: Decimal | None = None
    ltv: Decimal | None = None
    tags: list[tuple[str, str]] = field(default_factory=list)  # (tag, source)
    metadata: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, timedelta]] = field(default_factory=list)  # (kind, age at now)


def holds(expr: Expr, person: Person) -> bool:
    if isinstance(expr, Not):
        return not holds(expr.operand, person)
    if isinstance(expr, And):
        return all(holds(e, person) for e in expr.operands)
    if isinstance(expr, Or):
        return any(holds(e, person) for e in expr.operands)
    return _comparison(expr, person)


def _comparison(c: Comparison, person: Person) -> bool:
    if c.attribute == "tag":
        assert isinstance(c.value, Text)
        has = any(tag == c.value.value for tag, _ in person.tags)
        return has if c.op == "=" else not has
    if c.attribute in ("mrr", "ltv"):
        assert isinstance(c.value, Number)
        value = getattr(person, c.attribute)
        return value is not None and OPS[c.op](value, c.value.value)
    if c.attribute.endswith("_emails_last_30_days"):
        assert isinstance(c.value, Number)
        kind = "open" if c.attribute.startswith("opened") else "click"
        n = sum(1 for k, age in person.events if k == kind and timedelta(0) <= age <= WINDOW)
        return OPS[c.op](Decimal(n), c.value.value)
    stored = person.metadata.get(c.attribute)
    if stored is None:
        return False
    if isinstance(c.value, Number):
        return DECIMAL.fullmatch(stored) is not None and OPS[c.op](Decimal(stored),
                                                                   c.value.value)
    if c.op in ("=", "!="):
        return OPS[c.op](stored, c.value.value)
    return OPS[c.op](stored.encode(), c.value.value.encode())  # code-point order
