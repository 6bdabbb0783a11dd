"""Engagement import: opens and clicks from the host platform, as `EmailEvent` rows.

CSV columns `email,kind,occurred_at` (kind open|click, occurred_at ISO 8601; no zone
means UTC). All or nothing: one malformed row and nothing is imported, every bad line
is reported; so fixing the file and importing it again never doubles the good rows.
Rows whose email matches no subscriber are counted and skipped (not an error). An
event is its (subscriber, kind, time): one already stored, or repeated in the file,
is counted as a duplicate and skipped, which makes re-importing a file harmless.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import insert
from sqlmodel import Session, col, select

from revsync.revenue import normalize_email
from revsync.store.models import EmailEvent, Subscriber

KINDS = ("open", "click")
COLUMNS = ("email", "kind", "occurred_at")
CHUNK = 10_000  # bound parameters per statement stay far below PostgreSQL's 65,535

Event = tuple[int, str, datetime]  # subscriber id, kind, UTC time


class EventsFileError(Exception):
    """The file cannot be imported at all (missing, unreadable, missing columns)."""


@dataclass
class EventImportResult:
    imported: int = 0
    unknown_email: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers, keys lower-cased; fails clearly on a bad file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise EventsFileError(f"{path}: missing column(s) {', '.join(missing)} "
                                      f"(columns: {', '.join(header) or 'none'})")
            return [(reader.line_num, {(k or "").strip().lower(): v or ""
                                       for k, v in row.items() if k is not None})
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise EventsFileError(f"{path}: {error}") from error


def parse_time(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw.strip())
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


def import_rows(session: Session, workspace_id: int,
                rows: Iterable[tuple[int, Mapping[str, str]]]) -> EventImportResult:
    """Validate every row, then insert in one transaction (or insert nothing)."""
    result = EventImportResult()
    parsed: list[tuple[str, str, datetime]] = []
    for line, row in rows:
        try:
            parsed.append(_row(row))
        except ValueError as problem:
            result.rejected.append((line, str(problem)))
    if result.rejected:
        return result
    ids = _subscriber_ids(session, workspace_id, {norm for norm, _, _ in parsed})
    wanted: set[Event] = set()
    for norm, kind, moment in parsed:
        subscriber_id = ids.get(norm)
        if subscriber_id is None:
            result.unknown_email += 1
        elif (subscriber_id, kind, moment) in wanted:
            result.duplicates += 1
        else:
            wanted.add((subscriber_id, kind, moment))
    stored = _stored(session, wanted)
    result.duplicates += len(stored)
    new = sorted(wanted - stored)
    for start in range(0, len(new), CHUNK):
        session.execute(insert(EmailEvent), [
            {"workspace_id": workspace_id, "subscriber_id": s, "kind": k, "occurred_at": t}
            for s, k, t in new[start:start + CHUNK]
        ])
    session.commit()
    result.imported = len(new)
    return result


def _row(row: Mapping[str, str]) -> tuple[str, str, datetime]:
    norm = normalize_email((row.get("email") or "").strip())
    if not norm or "@" not in norm:
        raise ValueError(f"not an email address: {row.get('email')!r}")
    kind = (row.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"kind must be open or click, not {row.get('kind')!r}")
    try:
        moment = parse_time(row.get("occurred_at") or "")
    except ValueError:
        raise ValueError(f"occurred_at is not an ISO 8601 time: "
                         f"{row.get('occurred_at')!r}") from None
    return norm, kind, moment


def _subscriber_ids(session: Session, workspace_id: int, emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(emails)
    for start in range(0, len(ordered), CHUNK):
        for subscriber_id, norm in session.exec(
            select(Subscriber.id, Subscriber.email_norm).where(
                Subscriber.workspace_id == workspace_id,
                col(Subscriber.email_norm).in_(ordered[start:start + CHUNK]))
        ):
            assert subscriber_id is not None
            found[norm] = subscriber_id
    return found


def _stored(session: Session, wanted: set[Event]) -> set[Event]:
    """Which of `wanted` exist already (one range query per chunk of subscribers)."""
    if not wanted:
        return set()
    subscribers = sorted({s for s, _, _ in wanted})
    earliest, latest = min(t for _, _, t in wanted), max(t for _, _, t in wanted)
    stored: set[Event] = set()
    for start in range(0, len(subscribers), CHUNK):
        for subscriber_id, kind, moment in session.exec(
            select(EmailEvent.subscriber_id, EmailEvent.kind, EmailEvent.occurred_at).where(
                col(EmailEvent.subscriber_id).in_(subscribers[start:start + CHUNK]),
                col(EmailEvent.occurred_at) >= earliest, col(EmailEvent.occurred_at) <= latest)
        ):
            utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            stored.add((subscriber_id, kind, utc))
    return stored & wanted


RECORDED = "recorded"
DUPLICATE = "duplicate"
UNKNOWN_SUBSCRIBER = "unknown_subscriber"


@dataclass(frozen=True)
class IdentifiedEvent:
    """An event the host names with its own id (the API): stored once per id, whatever
    its time, so a redelivery is a duplicate even when two opens share a second."""

    event_id: str
    subscriber_id: int | None  # None: no subscriber of the workspace has the address
    kind: str
    occurred_at: datetime


def record_identified(session: Session, workspace_id: int,
                      events: Sequence[IdentifiedEvent]) -> list[str]:
    """Store each event not stored yet; per event `recorded`, `duplicate` (its id is
    stored, or came earlier in `events`) or `unknown_subscriber`. The caller commits."""
    ids = sorted({e.event_id for e in events})
    stored: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        stored.update(i for i in session.exec(select(EmailEvent.event_id).where(
            EmailEvent.workspace_id == workspace_id,
            col(EmailEvent.event_id).in_(ids[start:start + CHUNK]))) if i is not None)
    statuses: list[str] = []
    new: list[dict[str, object]] = []
    for event in events:
        if event.subscriber_id is None:
            statuses.append(UNKNOWN_SUBSCRIBER)
        elif event.event_id in stored:
            statuses.append(DUPLICATE)
        else:
            stored.add(event.event_id)
            statuses.append(RECORDED)
            new.append({"workspace_id": workspace_id, "subscriber_id": event.subscriber_id,
                        "kind": event.kind, "occurred_at": event.occurred_at.astimezone(UTC),
                        "event_id": event.event_id})
    if new:
        # In subscriber id order: each row's foreign key check locks its subscriber, and
        # a derivation locks subscribers in id order, so the two cannot deadlock.
        new.sort(key=lambda row: cast(int, row["subscriber_id"]))
        session.execute(insert(EmailEvent), new)
    return statuses
