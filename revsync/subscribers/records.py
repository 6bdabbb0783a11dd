"""Subscribers out: each as one record of everything the API reads, one or a page at a
time, a page optionally filtered by a segment expression.

Pages are keyset pages in id order (`after` the last id seen), never offsets: a page
costs the same at the end of a million subscribers as at the start, and subscribers
added or removed meanwhile never make a page repeat or skip one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from revsync.segments.limits import time_limited
from revsync.segments.parser import parse
from revsync.segments.sql import WINDOW, condition
from revsync.store.models import EmailEvent, Subscriber, SubscriberTag, utcnow

MAX_PAGE = 1000
DEFAULT_PAGE = 100
OPENED = "opened_emails_last_30_days"
CLICKED = "clicked_emails_last_30_days"
ENGAGEMENT = {"open": OPENED, "click": CLICKED}  # email_event kind -> the count's name


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    next_after: int | None  # pass as `after` for the next page; None on the last page


class BadPage(ValueError):
    """A cursor or limit that is not one."""


def records(session: Session, subscribers: Sequence[Subscriber],
            now: datetime | None = None) -> list[dict[str, Any]]:
    """The records of these subscribers, in their order: two queries for all of them."""
    ids = [s.id for s in subscribers if s.id is not None]
    tags = _tags(session, ids)
    counts = _engagement(session, ids, now or utcnow())
    return [_record(s, tags.get(s.id or 0, []), counts.get(s.id or 0, {}))
            for s in subscribers]


def page(session: Session, workspace_id: int, *, after: int = 0, limit: int = DEFAULT_PAGE,
         segment: str | None = None, now: datetime | None = None) -> Page:
    """Subscribers with id > `after`, in id order; only the segment's members when an
    expression is given (a bad one raises `SegmentError` with its position)."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadPage(f"limit must be 1-{MAX_PAGE}, not {limit}")
    if after < 0:
        raise BadPage(f"after must be a subscriber id >= 0, not {after}")
    at = now or utcnow()
    query = select(Subscriber).where(Subscriber.workspace_id == workspace_id,
                                     col(Subscriber.id) > after)
    if segment is not None:
        query = query.where(condition(parse(segment), at))
    with time_limited(session):
        found = session.exec(query.order_by(col(Subscriber.id)).limit(limit)).all()
    next_after = found[-1].id if len(found) == limit else None
    return Page(records(session, found, at), next_after)


def money(value: Decimal | None) -> str | None:
    """Amounts as exact decimal strings, as everywhere in the API."""
    return None if value is None else f"{value:.2f}"


def _record(subscriber: Subscriber, tags: list[dict[str, str]],
            counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "external_id": subscriber.external_id,
        "mrr": money(subscriber.mrr),
        "ltv": money(subscriber.ltv),
        "tags": tags,
        "metadata": dict(subscriber.stripe_metadata),
        "attributes": dict(subscriber.attributes),
        "engagement": {name: counts.get(name, 0) for name in ENGAGEMENT.values()},
        "changed_at": {"mrr": _time(subscriber.mrr_changed_at),
                       "ltv": _time(subscriber.ltv_changed_at),
                       "tags": _time(subscriber.tags_changed_at)},
        "version": subscriber.version,
        "unsubscribed": subscriber.unsubscribed,
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _tags(session: Session, ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Every tag with its source (`stripe`: Stripe-managed), sorted."""
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    if ids:
        for row in session.exec(select(SubscriberTag)
                                .where(col(SubscriberTag.subscriber_id).in_(ids))
                                .order_by(col(SubscriberTag.tag), col(SubscriberTag.source))):
            found[row.subscriber_id].append({"tag": row.tag, "source": row.source})
    return found


def _engagement(session: Session, ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """Opens and clicks within the segments' window (`now - 30 days` to `now`)."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        for subscriber_id, kind, n in session.exec(
            select(EmailEvent.subscriber_id, EmailEvent.kind, func.count())
            .where(col(EmailEvent.subscriber_id).in_(ids),
                   col(EmailEvent.occurred_at) >= now - WINDOW,
                   col(EmailEvent.occurred_at) <= now)
            .group_by(col(EmailEvent.subscriber_id), col(EmailEvent.kind))
        ):
            if kind in ENGAGEMENT:
                found[subscriber_id][ENGAGEMENT[kind]] = int(n)
    return found
