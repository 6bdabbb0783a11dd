"""Subscribers in from the host platform (the API or a CSV import), derived at once.

A subscriber written here is derived from the mirror in the same transaction that
writes it: one whose email matches a Stripe customer already mirrored has its mrr, ltv,
tags and metadata when the transaction commits, without a Stripe request and without
waiting for a sync or a webhook. Because the write and the derivation commit together,
no webhook or sync ever sees the subscriber underived, so what it gets on this first
match is its starting state; it is recorded as no transition (as on a workspace's first
full sync), so it fires no automation. Later changes, from webhooks and syncs, fire as
usual.

Deriving inline rather than in a workflow: it reads only the database (no Stripe
budget to share), a call holds at most `MAX_BATCH` subscribers, derived in batches of
`DERIVE_BATCH` as a full sync derives them (a few hundred milliseconds), and there is
then no moment at which a subscriber exists without its values. A CSV of 100,000 rows is
100 such transactions (`csv_import`).

The caller holds a locked session (`db.locked_session`: SQLite's write lock, or the
rows read `FOR UPDATE` on PostgreSQL) and commits.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from revsync.feed import causes
from revsync.store.models import Subscriber, utcnow
from revsync.subscribers import derivation
from revsync.subscribers.addresses import checked_email, checked_external_id

MAX_BATCH = 1000  # items per call: one API request, one CSV transaction
DERIVE_BATCH = 500  # subscribers per derivation, as a full sync's batches

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
REFUSED = "refused"
TAKEN = "external_id taken by another subscriber"  # the refusal that is a conflict


@dataclass(frozen=True)
class Wanted:
    """One subscriber as the host sends it: `external_id` None leaves the stored one,
    `attributes` are merged into the stored ones (only the keys sent change)."""

    email: str
    external_id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """What became of one `Wanted`: its status, the subscriber, or why it was refused."""

    status: str
    subscriber: Subscriber | None = None
    reason: str = ""


class ExternalIdTaken(Exception):
    """Another subscriber of the workspace holds this external id."""


def upsert(session: Session, workspace_id: int, items: Sequence[Wanted],
           now: int | None = None) -> list[Written]:
    """Create or update each item, in order; derive the ones created. The caller commits.

    Refused, each with its reason and nothing written for it: an email that is not an
    address, a malformed external id, an email or external id that an earlier item of
    the batch already names, an external id another subscriber holds.
    """
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} subscribers per call, not {len(items)}")
    results: list[Written | None] = [None] * len(items)
    accepted: list[tuple[int, Wanted, str, str]] = []
    seen_emails: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            email, norm = checked_email(item.email)
            _first(seen_emails, norm, index, "email")
            if item.external_id is not None:
                checked_external_id(item.external_id)
                _first(seen_ids, item.external_id, index, "external_id")
        except ValueError as problem:
            results[index] = Written(REFUSED, reason=str(problem))
            continue
        accepted.append((index, item, email, norm))
    by_email = lock_by_emails(session, workspace_id, [norm for _, _, _, norm in accepted])
    by_external = _by_external_ids(session, workspace_id, list(seen_ids))
    created: list[Subscriber] = []
    for index, item, email, norm in accepted:
        found = by_email.get(norm)
        holder = by_external.get(item.external_id or "")
        if holder is not None and holder is not found:
            results[index] = Written(REFUSED, reason=TAKEN)
        elif found is None:
            found = Subscriber(workspace_id=workspace_id, email=email, email_norm=norm,
                               external_id=item.external_id, attributes=dict(item.attributes))
            session.add(found)
            created.append(found)
            results[index] = Written(CREATED, found)
        else:
            changed = update(session, found, item.external_id, item.attributes)
            results[index] = Written(UPDATED if changed else UNCHANGED, found)
    session.flush()
    derive_silently(session, workspace_id, created, now)
    return [r for r in results if r is not None]


def update(session: Session, subscriber: Subscriber, external_id: str | None,
           attributes: Mapping[str, str]) -> bool:
    """Set the external id (when given) and merge the attributes; whether anything
    changed. The caller checked the external id is free."""
    merged = {**subscriber.attributes, **attributes}
    new_id = subscriber.external_id if external_id is None else external_id
    if merged == subscriber.attributes and new_id == subscriber.external_id:
        return False
    subscriber.attributes = merged
    subscriber.external_id = new_id
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    return True


def derive_silently(session: Session, workspace_id: int, subscribers: Sequence[Subscriber],
                    now: int | None = None) -> None:
    """Derive these (locked, flushed) subscribers from the mirror, silently: the values
    of a first match, or of a new address, are where the subscriber starts, not a change
    of its revenue, so they go into the change feed but start no automation. A
    subscriber that loses a customer to one of them (its previous holder) is derived in
    the same way. Each batch has its own source id: a previous holder may come up in two."""
    if not subscribers:
        return
    at = int(time.time()) if now is None else now
    inputs = derivation.inputs_for(session, workspace_id, whole_catalogue=False)
    for start in range(0, len(subscribers), DERIVE_BATCH):
        derivation.derive(session, inputs, subscribers[start:start + DERIVE_BATCH], at,
                          causes.subscriber_source(), fire=False, follow_displaced=True)


def lock_by_emails(session: Session, workspace_id: int,
                   norms: Collection[str]) -> dict[str, Subscriber]:
    """The workspace's subscribers with these normalised emails, locked in id order."""
    found = _locked(session, workspace_id, col(Subscriber.email_norm), norms)
    return {row.email_norm: row for row in found}


def _by_external_ids(session: Session, workspace_id: int,
                     external_ids: Collection[str]) -> dict[str, Subscriber]:
    found = _locked(session, workspace_id, col(Subscriber.external_id), external_ids)
    return {row.external_id: row for row in found if row.external_id is not None}


def _locked(session: Session, workspace_id: int, column: Any,
            values: Collection[str]) -> Sequence[Subscriber]:
    """The subscribers whose `column` is one of `values`, locked in id order (so
    concurrent writers never deadlock)."""
    if not values:
        return []
    return session.exec(
        select(Subscriber)
        .where(Subscriber.workspace_id == workspace_id, column.in_(sorted(values)))
        .order_by(col(Subscriber.id))
        .with_for_update()
    ).all()


def _first(seen: dict[str, int], value: str, index: int, what: str) -> None:
    """Remember `value` for item `index`; ValueError when an earlier item has it."""
    earlier = seen.setdefault(value, index)
    if earlier != index:
        raise ValueError(f"duplicate {what} in the batch: the same as item {earlier}")
