"""Subscribers from the host platform: CSV import with an `email` column."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from revsync.revenue import normalize_email
from revsync.store.models import Subscriber, utcnow

MAX_EMAIL_LENGTH = 320
LOOKUP_CHUNK = 10_000  # PostgreSQL takes at most 65,535 bound parameters per statement


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, unreadable, no `email` column)."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _valid_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > MAX_EMAIL_LENGTH or " " in email:
        return None
    return email


def read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows with their line numbers, and the header; fails clearly on a bad file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "email" not in [h.lower() for h in header]:
                raise ImportFileError(f"{path}: no `email` column (columns: {header or 'none'})")
            rows = [(reader.line_num, dict(row)) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ImportFileError(f"{path}: {error}") from error
    return rows, header


def import_rows(
    session: Session, workspace_id: int, rows: Iterable[tuple[int, Mapping[str, str | None]]]
) -> ImportResult:
    """Create or update subscribers; other columns become string attributes."""
    result = ImportResult()
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    for line, row in rows:
        lowered = {(k or "").strip().lower(): v for k, v in row.items()}
        email = _valid_email(lowered.get("email"))
        norm = normalize_email(email)
        if email is None or norm is None:
            result.rejected.append((line, f"not an email address: {lowered.get('email')!r}"))
            continue
        attributes = {
            (k or "").strip(): (v or "").strip()
            for k, v in row.items()
            if k and k.strip().lower() != "email" and v is not None
        }
        wanted[norm] = (email, attributes)
    emails = list(wanted)
    existing: dict[str, Subscriber] = {}
    for start in range(0, len(emails), LOOKUP_CHUNK):
        existing.update(
            (s.email_norm, s)
            for s in session.exec(
                select(Subscriber).where(
                    Subscriber.workspace_id == workspace_id,
                    col(Subscriber.email_norm).in_(emails[start : start + LOOKUP_CHUNK]),
                )
            )
        )
    for norm, (email, attributes) in wanted.items():
        subscriber = existing.get(norm)
        if subscriber is None:
            session.add(Subscriber(workspace_id=workspace_id, email=email, email_norm=norm,
                                   attributes=attributes))
            result.created += 1
        elif subscriber.attributes != {**subscriber.attributes, **attributes}:
            subscriber.attributes = {**subscriber.attributes, **attributes}
            subscriber.updated_at = utcnow()
            session.add(subscriber)
            result.updated += 1
    session.commit()
    return result
