"""A parsed expression -> one SQLAlchemy select over `subscriber`, values bound.

Semantics (docs/segments.md):

- A comparison on an attribute the subscriber does not have is false, and so is its
  negation's operand: `NOT (mrr > 5)` is TRUE for a subscriber without mrr. Every
  comparison is compiled with an explicit `IS NOT NULL` guard, so it is never SQL NULL
  and NOT/AND/OR behave as two-valued logic.
- `mrr`/`ltv` compare as exact decimals (PostgreSQL numeric; SQLite stores REAL).
- `tag = x`: has tag x from any source; `tag != x`: has no tag x (true without tags).
  Stripe-managed tags are bits on the subscriber row (`tag_bits`), others a subquery.
- Metadata is read from `subscriber_metadata` (one row per key, kept by triggers), whose
  indexes answer `key op value` without reading any JSON; see `_metadata` for which form
  each database gets.
- `opened_emails_last_30_days` / `clicked_emails_last_30_days`: the number of email
  events of kind open / click with `now - 30 days <= occurred_at <= now`; never missing
  (0 without events). The subscriber's latest event of the kind, a column of its row,
  settles `= 0`-like and `> 0`-like tests except when it lies after `now`, where they
  fall back to (NOT) EXISTS; other counts count only when it lies in the window.
- Any other name is a key of `stripe_metadata` (string values). With a text value the
  stored string is compared as text (`<`/`>` by code point on both databases). With a
  number the comparison holds only when the stored string is a plain decimal (the
  parser's number rule: `-?[0-9]+(\\.[0-9]+)?`, so not "1e3", " 5" or "5."), and then
  compares numerically ("5.0" = 5); a non-decimal string is treated as missing.
- The metadata key travels as a bound parameter of the JSON lookup, never as SQL text.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    Select,
    Table,
    and_,
    collate,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from revsync.segments import attributes, tag_bits
from revsync.segments.attributes import Kind
from revsync.segments.dialects import by_dialect, is_decimal, numeric
from revsync.segments.limits import runs_subquery
from revsync.segments.nodes import And, Comparison, Expr, Not, Number, Op, Text
from revsync.store.models import EmailEvent, Subscriber, SubscriberMetadata, SubscriberTag

WINDOW = timedelta(days=30)
SUBSCRIBER: Table = Subscriber.__table__  # type: ignore[attr-defined]
TAG: Table = SubscriberTag.__table__  # type: ignore[attr-defined]
EVENT: Table = EmailEvent.__table__  # type: ignore[attr-defined]
METADATA: Table = SubscriberMetadata.__table__  # type: ignore[attr-defined]
# email_event kind -> the subscriber column with the time of its latest such event
LATEST = {"open": "last_opened_at", "click": "last_clicked_at"}
# Each operator as Python's: on two numbers it compares them, on a column it builds the
# SQL comparison.
OPERATOR_FUNCTIONS: dict[Op, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class _Context:
    """What the compiler knows beyond one comparison, to pick the form each database
    runs fastest (every form means the same)."""

    now: datetime
    # SQLite: the expression runs subqueries per subscriber, so keep the id-ordered scan.
    in_id_order: bool
    # The whole workspace is counted, so SQLite may start from a metadata index (an IN
    # list) rather than probe per subscriber; a page or one subscriber probes instead.
    counted_workspace: int | None
    # PostgreSQL: a metadata containment test ANDed above already fetches each row's
    # JSON, which compares a second key cheaper than a semi-join.
    contained: bool = False


def condition(expr: Expr, now: datetime,
              counted_workspace: int | None = None) -> ColumnElement[bool]:
    """The WHERE clause of `expr` over `subscriber`; never NULL. `counted_workspace`:
    the query counts every member of that workspace (`count_statement`)."""
    if not _correlated(expr):
        return _condition(expr, _Context(now, False, counted_workspace))
    # SQLite would still read a revenue index for its workspace prefix, since it covers
    # the row; a column no such index holds (always true here) leaves it the id-ordered
    # scan or the workspace index, which is the faster plan for a correlated subquery.
    uncovered = by_dialect(true(), SUBSCRIBER.c.unsubscribed.is_not(None))
    return and_(_condition(expr, _Context(now, True, counted_workspace)), uncovered)


def _condition(expr: Expr, context: _Context) -> ColumnElement[bool]:
    if isinstance(expr, Comparison):
        return _comparison(expr, context)
    if isinstance(expr, Not):
        return not_(_condition(expr.operand, context))
    if isinstance(expr, And):
        if any(_contains(operand) for operand in expr.operands):
            context = replace(context, contained=True)
        return and_(*[_condition(operand, context) for operand in expr.operands])
    return or_(*[_condition(operand, context) for operand in expr.operands])


def _contains(expr: Expr) -> bool:
    """A metadata text equality: JSONB containment on PostgreSQL."""
    return (isinstance(expr, Comparison) and expr.op == "="
            and attributes.kind(expr.attribute) is Kind.METADATA
            and isinstance(expr.value, Text))


def _correlated(expr: Expr) -> bool:
    """Whether `expr` runs a subquery per subscriber: an engagement count the latest
    event does not settle (`opened_emails_last_30_days > 3`), or a tag without a bit.

    SQLite then probes the event and tag indexes once per row, which is fast in id order
    and more than twice as slow in the order of a revenue index, so there the revenue
    columns are written `+ mrr`, which SQLite will not use an index for.
    """
    if isinstance(expr, Comparison):
        return runs_subquery(expr) and not _settled_by_latest(expr)
    if isinstance(expr, Not):
        return _correlated(expr.operand)
    return any(_correlated(operand) for operand in expr.operands)


def _settled_by_latest(c: Comparison) -> bool:
    """An engagement test the row's latest event answers (but for a future latest)."""
    return (attributes.kind(c.attribute) in (Kind.OPENS, Kind.CLICKS)
            and isinstance(c.value, Number)
            and (_means_zero(c.op, c.value.value) or _means_nonzero(c.op, c.value.value)))


def count_statement(expr: Expr, workspace_id: int, now: datetime) -> Select[int]:
    return (select(func.count()).select_from(SUBSCRIBER)
            .where(SUBSCRIBER.c.workspace_id == workspace_id,
                   condition(expr, now, counted_workspace=workspace_id)))


def members_statement(expr: Expr, workspace_id: int, now: datetime, after: int,
                      limit: int) -> Select[int, str, Decimal | None, Decimal | None]:
    """One keyset page: members with id > after, in id order."""
    s = SUBSCRIBER.c
    return (select(s.id, s.email, s.mrr, s.ltv)
            .where(s.workspace_id == workspace_id, s.id > after, condition(expr, now))
            .order_by(s.id).limit(limit))


def _comparison(c: Comparison, context: _Context) -> ColumnElement[bool]:
    kind = attributes.kind(c.attribute)
    if kind is Kind.MONEY:
        column = SUBSCRIBER.c[c.attribute]
        assert isinstance(c.value, Number)
        compared = and_(column.is_not(None), _compare(column, c.op, c.value.value))
        if not context.in_id_order:
            return compared
        unindexed = UnaryExpression(column, operator=operators.custom_op("+"),
                                    type_=column.type)  # SQLite: `+ mrr`
        return by_dialect(compared, and_(unindexed.is_not(None),
                                         _compare(unindexed, c.op, c.value.value)))
    if kind is Kind.TAG:
        known = tag_bits.bit(_text(c))
        if known is not None:  # kept on the row by the database (tag_bits)
            held = SUBSCRIBER.c.tag_bits.op("&")(known) != 0
            return held if c.op == "=" else not_(held)
        # PostgreSQL semi-joins: the workspace term lets it read only this tag's rows
        # from ix_subscriber_tag_ws_tag. SQLite runs the subquery per subscriber, and
        # (without ANALYZE statistics) the same term makes it pick that index over the
        # primary key (subscriber_id, tag, ...), scanning every such tag per row.
        same_workspace = by_dialect(TAG.c.workspace_id == SUBSCRIBER.c.workspace_id, true())
        has = exists().where(TAG.c.subscriber_id == SUBSCRIBER.c.id, same_workspace,
                             TAG.c.tag == _text(c))
        return has if c.op == "=" else not_(has)
    if kind is Kind.METADATA:
        return _metadata(c, context)
    assert isinstance(c.value, Number)
    return _engagement(kind.value, c.op, c.value.value, context.now)


def _text(c: Comparison) -> str:
    return c.value.value if isinstance(c.value, Text) else format(c.value.value, "f")


def _metadata(c: Comparison, context: _Context) -> ColumnElement[bool]:
    """`subscriber_metadata` holds the key's value as text and, for a plain decimal, as a
    number, so each form below means the same as comparing the JSON string. Forms:

    - `key = "text"` on PostgreSQL: JSONB containment, which its GIN index answers; a
      further key ANDed with it is read from the JSON of the rows that index found.
    - in a count on SQLite, an equality, or any test not ANDed with one: `id IN` the
      index's list for the key, so SQLite starts from those subscribers instead of
      scanning every one; a test ANDed with an equality probes the (subscriber_id, key)
      row of each subscriber that list gave (a second list would be built and searched
      per subscriber, which is slower).
    - otherwise a probe of that row; PostgreSQL plans it as a semi-join from the
      (workspace, key, number or value) index.
    """
    if isinstance(c.value, Text) and c.op == "=":
        contains = type_coerce(SUBSCRIBER.c.stripe_metadata, JSONB).contains(
            {c.attribute: c.value.value})
        return by_dialect(contains, _metadata_sqlite(c, context.counted_workspace))
    if context.contained:
        return by_dialect(_metadata_json(c), _metadata_sqlite(c, None))
    return by_dialect(_metadata_sqlite(c, None), _metadata_sqlite(c, context.counted_workspace))


def _metadata_sqlite(c: Comparison, listed_in: int | None) -> ColumnElement[bool]:
    """The test on `subscriber_metadata`: `id IN` the list of workspace `listed_in`'s
    matching rows, or (None) EXISTS the subscriber's own row."""
    m = METADATA.c
    if isinstance(c.value, Number):
        compared = and_(m.number.is_not(None), _compare(m.number, c.op, c.value.value))
    elif c.op in ("=", "!="):
        compared = _compare(m.value, c.op, c.value.value)
    else:  # code-point order on both databases
        compared = by_dialect(_compare(collate(m.value, "C"), c.op, c.value.value),
                              _compare(m.value, c.op, c.value.value))
    if listed_in is not None:
        return SUBSCRIBER.c.id.in_(select(m.subscriber_id).where(
            m.workspace_id == listed_in, m.key == c.attribute, compared))
    same_workspace = by_dialect(m.workspace_id == SUBSCRIBER.c.workspace_id, true())
    return exists().where(m.subscriber_id == SUBSCRIBER.c.id, same_workspace,
                          m.key == c.attribute, compared)


def _metadata_json(c: Comparison) -> ColumnElement[bool]:
    """PostgreSQL: the comparison on the row's JSONB, for rows a containment test found.
    A number holds only for a plain decimal string (the CASE: PostgreSQL may evaluate
    AND's operands in any order, and its cast fails on a non-number)."""
    stored = SUBSCRIBER.c.stripe_metadata[c.attribute].as_string()
    if isinstance(c.value, Number):
        return and_(stored.is_not(None), is_decimal(stored),
                    _compare(numeric(stored), c.op, c.value.value))
    if c.op in ("=", "!="):
        return and_(stored.is_not(None), _compare(stored, c.op, c.value.value))
    return and_(stored.is_not(None), _compare(collate(stored, "C"), c.op, c.value.value))


def _engagement(event_kind: str, op: Op, value: Decimal, now: datetime) -> ColumnElement[bool]:
    """The subscriber's latest event of the kind (`LATEST`, kept by triggers) settles the
    test on the row: none in the window when it is missing or older than the window, at
    least one when it lies inside. Only a latest event after `now` leaves a zero /
    non-zero test to the events (EXISTS), and only one inside the window leaves a count
    to count them. As for tags, the workspace term is for PostgreSQL only
    (ix_email_event_ws_kind_time_sub)."""
    moment = now.astimezone(UTC)
    latest = SUBSCRIBER.c[LATEST[event_kind]]
    # Surely no event in the window: no latest, or one before it. One term, not an OR
    # of two, which PostgreSQL would answer with a bitmap of two index ranges
    # and then read the rows; one term filters the entries of an index-only scan.
    none = func.coalesce(latest < moment - WINDOW, true())
    same_workspace = by_dialect(EVENT.c.workspace_id == SUBSCRIBER.c.workspace_id, true())
    window = (EVENT.c.subscriber_id == SUBSCRIBER.c.id, same_workspace,
              EVENT.c.kind == event_kind, EVENT.c.occurred_at >= moment - WINDOW,
              EVENT.c.occurred_at <= moment)
    any_event = exists().where(*window)
    if _means_zero(op, value):
        return or_(none, and_(latest > moment, not_(any_event)))
    if _means_nonzero(op, value):
        return and_(not_(none), or_(latest <= moment, any_event))
    count = select(func.count()).where(*window).scalar_subquery()
    if OPERATOR_FUNCTIONS[op](Decimal(0), value):  # true of a subscriber without events
        return or_(none, _compare(count, op, value))
    return and_(not_(none), _compare(count, op, value))


def _means_zero(op: Op, value: Decimal) -> bool:
    """True when, for a count n >= 0 (an integer), `n op value` holds exactly for n == 0."""
    return ((op == "=" and value == 0) or (op == "<" and 0 < value <= 1)
            or (op == "<=" and 0 <= value < 1))


def _means_nonzero(op: Op, value: Decimal) -> bool:
    return ((op == "!=" and value == 0) or (op == ">" and 0 <= value < 1)
            or (op == ">=" and 0 < value <= 1))


def _compare(left: ColumnElement[Any], op: Op, value: object) -> ColumnElement[bool]:
    right = literal(value, Numeric()) if isinstance(value, Decimal) else literal(value)
    compared: ColumnElement[bool] = OPERATOR_FUNCTIONS[op](left, right)
    return compared
