"""Read the change feed a page at a time, after a cursor.

An entry says what changed on one subscriber (before and after: `mrr`, `ltv`, the
Stripe-managed tags and the carried metadata), what caused it and when. It names the
subscriber by revsync's id and the platform's `external_id`, never by email: entries
travel to the platform's workers through Temporal, where payloads are visible.

A cursor is the position of the last entry read and the time that entry was written
(or, for a reader that is caught up, the time it asked). Entries are kept for the
retention; a cursor older than that may have missed forgotten entries, so it is refused
(`Expired`) and the reader starts again from the subscriber list. Positions are
global, so one cursor shape serves a workspace's feed and the platform's.
"""

# Annotations are evaluated (no `from __future__ import annotations`): the types here
# cross the workflow sandbox, which resolves string annotations against its own module
# table, where this module may be missing.

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from revsync.feed.causes import cause_of
from revsync.store.models import Subscriber, SubscriberTransition, Workspace, utcnow
from revsync.store.timestamps import as_utc

MAX_PAGE = 1000
# A caught-up reader's cursor is dated a little before it asked: an entry being
# committed as it reads was stamped just before, and must not look older than its cursor.
CAUGHT_UP_MARGIN = timedelta(minutes=1)
_CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,12})$")


class BadCursor(ValueError):
    """Not a cursor this feed hands out."""


class Expired(Exception):
    """The cursor is older than the retention: entries after it may be forgotten."""


@dataclass(frozen=True)
class Values:
    """A subscriber's Stripe-managed values on one side of a change; money is a decimal
    string in the account's currency units (`"49.00"`), None when not derived yet."""

    mrr: str | None
    ltv: str | None
    tags: list[str]
    metadata: dict[str, str]


@dataclass(frozen=True)
class Change:
    """One entry of the feed."""

    position: int
    workspace: str
    subscriber_id: int
    external_id: str | None
    cause: str  # sync, stripe_event, rederive or subscriber (`feed.causes`)
    cause_id: str
    silent: bool  # starting values (first sync, first match): they start no automation
    at: str  # ISO 8601, UTC
    before: Values
    after: Values
    tags_added: list[str]
    tags_removed: list[str]


@dataclass(frozen=True)
class Cursor:
    position: int
    issued: datetime

    def text(self) -> str:
        return f"{self.position}.{int(self.issued.timestamp())}"


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    next: Cursor
    has_more: bool


def parse_cursor(text: str | None) -> Cursor | None:
    """The cursor a reader sent; None (from the start) for none; `BadCursor` otherwise."""
    if text is None or text == "":
        return None
    found = _CURSOR.match(text)
    if found is None:
        raise BadCursor(f"after must be a cursor from a previous page, not {text[:40]!r}")
    return Cursor(int(found[1]), datetime.fromtimestamp(int(found[2]), UTC))


def read(session: Session, after: Cursor | None, limit: int, retention: timedelta,
         workspace_id: int | None = None) -> Page:
    """Up to `limit` entries after the cursor, of one workspace or (None) of all."""
    now = utcnow()
    if after is not None and after.issued < now - retention:
        raise Expired(f"the cursor is older than the feed's retention ({retention.days} days)")
    position = 0 if after is None else after.position
    rows = _changes(session, position, limit + 1, workspace_id)
    changes = rows[:limit]
    if not changes:
        return Page([], Cursor(position, now - CAUGHT_UP_MARGIN), False)
    return Page(changes, Cursor(changes[-1].position, datetime.fromisoformat(changes[-1].at)),
                len(rows) > limit)


def after_position(session: Session, position: int, limit: int, workspace_id: int
                   ) -> list[Change]:
    """Up to `limit` of the workspace's entries after `position`, with no cursor to check:
    for a reader that keeps its own position (the sink)."""
    return _changes(session, position, limit, workspace_id)


def _changes(session: Session, position: int, limit: int, workspace_id: int | None
          ) -> list[Change]:
    query = (select(SubscriberTransition, Subscriber.external_id, Workspace.name)
             .join(Subscriber, col(Subscriber.id) == SubscriberTransition.subscriber_id)
             .join(Workspace, col(Workspace.id) == SubscriberTransition.workspace_id)
             .where(col(SubscriberTransition.id) > position)
             .order_by(col(SubscriberTransition.id))
             .limit(limit))
    if workspace_id is not None:
        query = query.where(SubscriberTransition.workspace_id == workspace_id)
    return [change_of(row, external_id, name)
            for row, external_id, name in session.exec(query).all()]


def change_of(row: SubscriberTransition, external_id: str | None, workspace: str) -> Change:
    assert row.id is not None
    cause = cause_of(row.source_id)
    return Change(
        position=row.id, workspace=workspace, subscriber_id=row.subscriber_id,
        external_id=external_id, cause=cause.kind, cause_id=cause.id, silent=row.silent,
        at=as_utc(row.created_at).isoformat(),
        before=Values(_money(row.mrr_before), _money(row.ltv_before), tags_before(row),
                      dict(row.metadata_before)),
        after=Values(_money(row.mrr_after), _money(row.ltv_after), sorted(row.tags_after or []),
                     dict(row.metadata_after)),
        tags_added=sorted(row.tags_added), tags_removed=sorted(row.tags_removed),
    )


def tags_before(row: SubscriberTransition) -> list[str]:
    """The Stripe-managed tags the subscriber held before the change."""
    after = set(row.tags_after or row.tags_added)
    return sorted((after - set(row.tags_added)) | set(row.tags_removed))


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"
