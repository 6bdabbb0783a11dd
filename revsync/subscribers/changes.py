"""Write a derivation's outcome onto one subscriber, and record what changed.

Only what differs is written, so deriving twice is a no-op and a transition is
recorded only for a real change. Tags from other sources are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    Integer,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine
from sqlmodel import Session

from revsync.feed import order
from revsync.revenue import Derived
from revsync.store import db
from revsync.store.executemany import executemany
from revsync.store.models import (
    CustomerLink,
    Subscriber,
    SubscriberTag,
    SubscriberTransition,
    utcnow,
)

STRIPE_SOURCE = "stripe"

_Upsert = TypeVar("_Upsert", postgresql.Insert, sqlite.Insert)


@dataclass(frozen=True)
class Transition:
    """What one derivation changed on one subscriber (input for automations)."""

    subscriber_id: int
    tags_added: frozenset[str]
    tags_removed: frozenset[str]
    mrr_before: Decimal | None = None
    mrr_after: Decimal | None = None
    ltv_before: Decimal | None = None
    ltv_after: Decimal | None = None
    tags_after: frozenset[str] = frozenset()  # the Stripe-managed tags it holds now
    metadata_before: Mapping[str, str] = field(default_factory=dict)
    metadata_after: Mapping[str, str] = field(default_factory=dict)


def stripe_tags(session: Session, subscriber_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The Stripe-sourced tags these subscribers have now."""
    table = SubscriberTag.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(table.c.subscriber_id, table.c.tag).where(
            table.c.subscriber_id.in_(subscriber_ids), table.c.source == STRIPE_SOURCE)
    ).all()
    tags: dict[int, set[str]] = defaultdict(set)
    for subscriber_id, tag in rows:
        tags[subscriber_id].add(tag)
    return {k: frozenset(v) for k, v in tags.items()}


@dataclass(frozen=True)
class Outcome:
    """One locked subscriber, what deriving it gave, and its Stripe tags before."""

    subscriber: Subscriber
    derived: Derived
    old_tags: frozenset[str]


def write_all(
    session: Session, workspace_id: int, outcomes: Sequence[Outcome]
) -> tuple[list[Transition], set[int]]:
    """Write the outcomes that differ, in a handful of statements for the whole batch.

    Returns the transitions, and the other subscribers that held a customer one of these
    now takes over (an email change): they must be derived again, or they keep its
    revenue. Per-subscriber ORM writes would autoflush between the link queries; a batch
    of 500 here is a few executemany statements. The loaded `Subscriber` objects are
    updated in place, not left stale.
    """
    changed = [(o, t) for o in outcomes if (t := _transition(o)) is not None]
    if not changed:
        return [], set()
    written = [o for o, _ in changed]
    transitions = [t for _, t in changed]
    displaced = _relink(session, workspace_id, written)
    _update_subscribers(session, written)
    _retag(session, workspace_id, transitions)
    return transitions, displaced


def _transition(outcome: Outcome) -> Transition | None:
    """What writing this outcome changes; None when it would change nothing."""
    subscriber, derived, old_tags = outcome.subscriber, outcome.derived, outcome.old_tags
    assert subscriber.id is not None
    same = (
        subscriber.mrr == derived.mrr
        and subscriber.ltv == derived.ltv
        and subscriber.stripe_metadata == derived.metadata
        and subscriber.stripe_customer_ids == sorted(derived.eligible_customer_ids)
        and old_tags == set(derived.tags)
    )
    if same:
        return None
    return Transition(
        subscriber.id,
        frozenset(set(derived.tags) - old_tags),
        frozenset(old_tags - set(derived.tags)),
        mrr_before=subscriber.mrr,
        mrr_after=derived.mrr,
        ltv_before=subscriber.ltv,
        ltv_after=derived.ltv,
        tags_after=frozenset(derived.tags),
        metadata_before=dict(subscriber.stripe_metadata),
        metadata_after=dict(derived.metadata),
    )


def _update_subscribers(session: Session, outcomes: Sequence[Outcome]) -> None:
    """Each row's new values, its version one higher and the time each of mrr, ltv and
    the Stripe tags changed (kept where it did not): the API's readers compare these."""
    table = Subscriber.__table__  # type: ignore[attr-defined]
    now = utcnow()
    rows = [
        {"sid": o.subscriber.id, "mrr": o.derived.mrr, "ltv": o.derived.ltv,
         "stripe_metadata": dict(o.derived.metadata),
         "stripe_customer_ids": sorted(o.derived.eligible_customer_ids), "updated_at": now,
         "version": o.subscriber.version + 1,
         "mrr_changed_at": _changed_at(o.subscriber.mrr_changed_at,
                                       o.subscriber.mrr != o.derived.mrr, now),
         "ltv_changed_at": _changed_at(o.subscriber.ltv_changed_at,
                                       o.subscriber.ltv != o.derived.ltv, now),
         "tags_changed_at": _changed_at(o.subscriber.tags_changed_at,
                                        o.old_tags != set(o.derived.tags), now)}
        for o in outcomes
    ]
    columns = _WRITTEN
    if db.on_postgresql(session):
        types = [("sid", table.c.id.type)] + [(c, table.c[c].type) for c in columns]
        given = _json_rows("rows", types, rows)
        session.execute(update(table).where(table.c.id == given.c.sid)
                        .values({c: given.c[c] for c in columns}))
    else:
        executemany(session, _SQLITE_UPDATE, rows)
    for outcome, row in zip(outcomes, rows, strict=True):
        for name in columns:  # what the row now holds, without a second write at flush
            set_committed_value(outcome.subscriber, name, row[name])


def _changed_at(before: datetime | None, changed: bool, now: datetime) -> datetime | None:
    return now if changed else before


def _retag(session: Session, workspace_id: int, transitions: Sequence[Transition]) -> None:
    """Remove and add the batch's changed Stripe tags.

    PostgreSQL gets each as one statement over one JSON parameter of (subscriber, tag)
    pairs (see `_json_rows`), so its `tag_bits` triggers run once per statement
    (migration 0008).
    SQLite's triggers run per row whatever the statement.
    """
    table = SubscriberTag.__table__  # type: ignore[attr-defined]
    removed = [(t.subscriber_id, tag) for t in transitions for tag in sorted(t.tags_removed)]
    added = [(t.subscriber_id, tag) for t in transitions for tag in sorted(t.tags_added)]
    if db.on_postgresql(session):
        if removed:
            session.execute(delete(table).where(
                table.c.source == STRIPE_SOURCE,
                tuple_(table.c.subscriber_id, table.c.tag).in_(select(_tag_pairs(removed)))))
        if added:
            pairs = _tag_pairs(added)
            session.execute(insert(table).from_select(
                ["subscriber_id", "tag", "source", "workspace_id"],
                select(pairs.c.subscriber_id, pairs.c.tag, literal(STRIPE_SOURCE),
                       literal(workspace_id))))
        return
    executemany(session, _SQLITE_UNTAG, [{"sid": sid, "gone": tag} for sid, tag in removed])
    executemany(session, _SQLITE_TAG, [
        {"subscriber_id": sid, "tag": tag, "source": STRIPE_SOURCE,
         "workspace_id": workspace_id} for sid, tag in added])


def _tag_pairs(pairs: Sequence[tuple[int, str]]) -> TableValuedAlias:
    """(subscriber_id, tag) rows, bound as one parameter."""
    return _json_rows("pairs", [("subscriber_id", Integer()), ("tag", String())],
                      [{"subscriber_id": sid, "tag": tag} for sid, tag in pairs])


def _json_rows(
    name: str, columns: Sequence[tuple[str, TypeEngine[Any]]],
    rows: Sequence[Mapping[str, object]],
) -> TableValuedAlias:
    """A batch of rows as one JSON parameter that PostgreSQL's `json_to_recordset` reads
    back into typed columns.

    A batch's write is then one short statement of the same text whatever the batch's
    size: psycopg runs an executemany one statement per row, a multi-row VALUES list is
    new text each time (psycopg parses it again in Python), and array parameters are
    quoted element by element in Python. orjson writes the whole batch in C; numbers go
    as their exact decimal strings, times in ISO 8601, which PostgreSQL parses as it
    would the bound values.
    """
    document = orjson.dumps(rows, default=_exact_decimal).decode()
    return func.json_to_recordset(cast(bindparam(name, document, type_=Text), postgresql.JSON)) \
        .table_valued(*(column(key, type_) for key, type_ in columns)) \
        .render_derived(name=name, with_types=True)


def _exact_decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _relink(session: Session, workspace_id: int, outcomes: Sequence[Outcome]) -> set[int]:
    """Keep `stripe_customer_link` equal to the customers each subscriber holds; return
    the other subscribers the newly held customers were linked to.

    Only each subscriber's own links are dropped: a customer that moved to another
    subscriber (email change) may already be linked there. Customers match by email, so
    within one batch a customer comes to at most one subscriber.
    """
    table = CustomerLink.__table__  # type: ignore[attr-defined]
    gone: list[dict[str, object]] = []
    came: dict[str, int] = {}
    for outcome in outcomes:
        sid = outcome.subscriber.id
        assert sid is not None
        old = set(outcome.subscriber.stripe_customer_ids)
        new = set(outcome.derived.eligible_customer_ids)
        gone += [{"sid": sid, "cid": c} for c in sorted(old - new)]
        came.update((c, sid) for c in sorted(new - old))
    if gone:
        session.execute(
            delete(table).where(table.c.workspace_id == workspace_id,
                                table.c.subscriber_id == bindparam("sid"),
                                table.c.customer_id == bindparam("cid")),
            gone,
        )
    if not came:
        return set()
    holders = session.execute(
        select(table.c.customer_id, table.c.subscriber_id).where(
            table.c.workspace_id == workspace_id, table.c.customer_id.in_(sorted(came)))
    ).all()
    links = [{"workspace_id": workspace_id, "customer_id": c, "subscriber_id": sid}
             for c, sid in sorted(came.items())]
    if db.on_postgresql(session):
        given = _json_rows("links", [(c, table.c[c].type)
                                     for c in ("customer_id", "subscriber_id")], links)
        statement = postgresql.insert(table).from_select(
            ["workspace_id", "customer_id", "subscriber_id"],
            select(literal(workspace_id), given.c.customer_id, given.c.subscriber_id))
        session.execute(_relinking(statement))
    else:
        executemany(session, _SQLITE_LINK, links)
    return {holder for customer, holder in holders if holder != came[customer]}


def _relinking(statement: _Upsert) -> _Upsert:
    """The link insert, taking over a customer another subscriber held."""
    return statement.on_conflict_do_update(
        index_elements=["workspace_id", "customer_id"],
        set_={"subscriber_id": statement.excluded.subscriber_id},
    )


def record_transitions(
    session: Session, workspace_id: int, source_id: str, transitions: Sequence[Transition],
    fire: bool = True, asks_rules: Callable[[Transition], bool] | None = None,
) -> int:
    """Store what changed as change-feed entries; the caller commits with the changes.

    Returns how many are left for the hand-over to the automations. `fire=False`
    records them all as handed over already: a subscriber's starting values are in the
    feed but start nothing. With `asks_rules`, so is each that asks nothing of the
    workspace's rules, so a source whose changes start and stop nothing needs no
    hand-over. One multi-row insert, under the feed's order (`feed.order`), so positions
    are handed out in commit order; the caller should commit soon after.
    """
    if not transitions:
        return 0
    order.hold(session)
    created_at = utcnow()  # after the order is held, so times grow with positions
    waiting = [fire and (asks_rules is None or asks_rules(t)) for t in transitions]
    table: Table = SubscriberTransition.__table__  # type: ignore[attr-defined]
    rows = [
        {"subscriber_id": t.subscriber_id, "tags_added": sorted(t.tags_added),
         "tags_removed": sorted(t.tags_removed), "tags_after": sorted(t.tags_after),
         "mrr_before": t.mrr_before, "mrr_after": t.mrr_after,
         "ltv_before": t.ltv_before, "ltv_after": t.ltv_after,
         "metadata_before": dict(t.metadata_before), "metadata_after": dict(t.metadata_after),
         "dispatched_at": None if wait else created_at}
        for t, wait in zip(transitions, waiting, strict=True)
    ]
    same = {"workspace_id": workspace_id, "source_id": source_id, "silent": not fire,
            "created_at": created_at}
    if db.on_postgresql(session):
        given = _json_rows("entries", [(c, table.c[c].type) for c in rows[0]], rows)
        session.execute(insert(table).from_select(
            [*same, *rows[0]],
            select(*(literal(v, table.c[c].type) for c, v in same.items()),
                   *(given.c[c] for c in rows[0]))))
    else:
        executemany(session, _SQLITE_ENTRY, [{**same, **row} for row in rows])
    return sum(waiting)


_WRITTEN = ("mrr", "ltv", "stripe_metadata", "stripe_customer_ids", "updated_at", "version",
            "mrr_changed_at", "ltv_changed_at", "tags_changed_at")  # by _update_subscribers

# SQLite's statements, built once: `executemany` compiles each once and hands the rows
# to the driver as tuples. PostgreSQL's take the whole batch as one parameter instead.
_SUBSCRIBERS: Table = Subscriber.__table__  # type: ignore[attr-defined]
_TAGS: Table = SubscriberTag.__table__  # type: ignore[attr-defined]
_SQLITE_UPDATE = update(_SUBSCRIBERS).where(_SUBSCRIBERS.c.id == bindparam("sid")) \
    .values({c: bindparam(c) for c in _WRITTEN})
_SQLITE_UNTAG = delete(_TAGS).where(_TAGS.c.subscriber_id == bindparam("sid"),
                                    _TAGS.c.source == STRIPE_SOURCE,
                                    _TAGS.c.tag == bindparam("gone"))
_SQLITE_TAG = insert(_TAGS)
_SQLITE_LINK = _relinking(sqlite.insert(CustomerLink.__table__))  # type: ignore[attr-defined]
_SQLITE_ENTRY = insert(SubscriberTransition.__table__)  # type: ignore[attr-defined]
