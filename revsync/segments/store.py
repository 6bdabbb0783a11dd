"""Saved segments of a workspace: create, edit, delete, list, count, page through members.

Every operation takes a Session and the workspace id and touches only that workspace's
rows, so a segment id of another workspace is "not found". Expressions are parsed
before anything is stored; a bad one raises `SegmentError` and nothing changes. A
workspace holds at most the deployment's number of segments.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revsync.segments.limits import time_limited
from revsync.segments.parser import parse
from revsync.segments.sql import count_statement, members_statement
from revsync.settings import get_settings
from revsync.store.models import Segment, SubscriberTag, utcnow

MAX_NAME = 200
MAX_PAGE = 500
DEFAULT_PAGE = 100


class SegmentStoreError(Exception):
    """An operation on saved segments that cannot be done; nothing was changed."""


class SegmentNotFound(SegmentStoreError):
    pass


class DuplicateSegmentName(SegmentStoreError):
    pass


class InvalidSegmentName(SegmentStoreError):
    pass


class TooManySegments(SegmentStoreError):
    """The workspace has as many segments as a workspace may
    (`REVSYNC_MAX_SEGMENTS_PER_WORKSPACE`)."""


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    mrr: Decimal | None
    ltv: Decimal | None
    tags: list[str]  # distinct tag names, any source, sorted


@dataclass(frozen=True)
class MemberPage:
    members: list[Member]
    next_after: int | None  # pass as `after` for the next page; None on the last page


def clean_name(name: str) -> str:
    """Trimmed; 1-200 characters without control characters (names show in tables)."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidSegmentName(f"segment names are 1-{MAX_NAME} characters, not "
                                 f"{shown(name)}")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidSegmentName(f"segment names cannot contain control characters: "
                                 f"{shown(name)}")
    return cleaned


def shown(name: str, limit: int = 60) -> str:
    """A name as an error message shows it: quoted, and cut when long (with its length)."""
    if len(name) <= limit:
        return repr(name)
    return f"{name[:limit]!r}... ({len(name)} characters)"


def list_segments(session: Session, workspace_id: int) -> list[Segment]:
    return list(session.exec(select(Segment).where(Segment.workspace_id == workspace_id)
                             .order_by(col(Segment.name))))


def get(session: Session, workspace_id: int, segment_id: int) -> Segment:
    segment = session.exec(select(Segment).where(Segment.workspace_id == workspace_id,
                                                 Segment.id == segment_id)).first()
    if segment is None:
        raise SegmentNotFound(f"no segment with id {segment_id} in this workspace")
    return segment


def by_name(session: Session, workspace_id: int, name: str) -> Segment:
    segment = session.exec(select(Segment).where(Segment.workspace_id == workspace_id,
                                                 Segment.name == name.strip())).first()
    if segment is None:
        raise SegmentNotFound(f"no segment named {name.strip()!r} in this workspace")
    return segment


def create(session: Session, workspace_id: int, name: str, expression: str,
           default_key: str | None = None, cap: int | None = None) -> Segment:
    """Validates name and expression first; DuplicateSegmentName if the name is taken,
    TooManySegments if the workspace has `cap` (default: the deployment's) already."""
    cleaned = clean_name(name)
    parse(expression)
    _ensure_free(session, workspace_id, cleaned, None)
    _ensure_room(session, workspace_id,
                 get_settings().max_segments_per_workspace if cap is None else cap)
    segment = Segment(workspace_id=workspace_id, name=cleaned, expression=expression,
                      default_key=default_key)
    session.add(segment)
    _commit(session, cleaned)
    return segment


def edit(session: Session, workspace_id: int, segment_id: int, *, name: str | None = None,
         expression: str | None = None) -> Segment:
    """Change the name and/or the expression; at least one must be given."""
    if name is None and expression is None:
        raise SegmentStoreError("nothing to change: give a new name or a new expression")
    segment = get(session, workspace_id, segment_id)
    cleaned = None if name is None else clean_name(name)
    if expression is not None:
        parse(expression)
    if cleaned is not None and cleaned != segment.name:
        _ensure_free(session, workspace_id, cleaned, segment_id)
        segment.name = cleaned
    if expression is not None:
        segment.expression = expression
    segment.updated_at = utcnow()
    session.add(segment)
    _commit(session, segment.name)
    return segment


def delete(session: Session, workspace_id: int, segment_id: int) -> None:
    session.delete(get(session, workspace_id, segment_id))
    session.commit()


def count(session: Session, workspace_id: int, segment_id: int,
          now: datetime | None = None) -> int:
    segment = get(session, workspace_id, segment_id)
    return count_expression(session, workspace_id, segment.expression, now)


def count_expression(session: Session, workspace_id: int, expression: str,
                     now: datetime | None = None) -> int:
    statement = count_statement(parse(expression), workspace_id, now or utcnow())
    with time_limited(session):
        return int(session.execute(statement).scalar_one())


def members(session: Session, workspace_id: int, segment_id: int, *, after: int = 0,
            limit: int = DEFAULT_PAGE, now: datetime | None = None) -> MemberPage:
    """One page in subscriber-id order (keyset: stable while subscribers change)."""
    if not 1 <= limit <= MAX_PAGE:
        raise SegmentStoreError(f"limit must be 1-{MAX_PAGE}, not {limit}")
    if after < 0:
        raise SegmentStoreError(f"after must be a subscriber id >= 0, not {after}")
    segment = get(session, workspace_id, segment_id)
    statement = members_statement(parse(segment.expression), workspace_id, now or utcnow(),
                                  after, limit)
    with time_limited(session):
        rows = session.execute(statement).all()
    tags = _tags(session, [row.id for row in rows])
    found = [Member(row.id, row.email, row.mrr, row.ltv, tags.get(row.id, [])) for row in rows]
    return MemberPage(found, found[-1].id if len(found) == limit else None)


def _tags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    by_subscriber: dict[int, set[str]] = defaultdict(set)
    if ids:
        for subscriber_id, tag in session.execute(
            select(SubscriberTag.subscriber_id, SubscriberTag.tag)
            .where(col(SubscriberTag.subscriber_id).in_(ids))
        ):
            by_subscriber[subscriber_id].add(tag)
    return {subscriber_id: sorted(tags) for subscriber_id, tags in by_subscriber.items()}


def _ensure_free(session: Session, workspace_id: int, name: str, own_id: int | None) -> None:
    clash = session.exec(select(Segment.id).where(Segment.workspace_id == workspace_id,
                                                  Segment.name == name)).first()
    if clash is not None and clash != own_id:
        raise DuplicateSegmentName(f"a segment named {name!r} already exists")


def _ensure_room(session: Session, workspace_id: int, cap: int) -> None:
    held = session.exec(select(func.count()).select_from(Segment)
                        .where(Segment.workspace_id == workspace_id)).one()
    if held >= cap:
        raise TooManySegments(f"this workspace has {held} segments, the most a workspace may "
                              f"have ({cap}, REVSYNC_MAX_SEGMENTS_PER_WORKSPACE); delete one "
                              "first")


def _commit(session: Session, name: str) -> None:
    """The unique constraint catches a concurrent creation that the check missed."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateSegmentName(f"a segment named {name!r} already exists") from None
