"""Subscribers from the host platform: CSV import with an `email` column.

Addresses are checked with `email-validator` (syntax only, no DNS lookup): display
names, doubled `@`, bidirectional overrides and zero-width characters are refused with
their line. Rows whose addresses fold to one (case, spaces) are merged, the later row
winning, and reported. A file with an unterminated quote, or with two columns that
could both be the email, is refused as a whole: guessing would store the wrong thing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
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
    merged: list[tuple[int, int]] = field(default_factory=list)  # (line, merged into line)


def _valid_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        return None
    try:
        # Syntax only (no DNS). `.test` domains (RFC 6761) are allowed for staging lists;
        # other special-use names (localhost, .local, .invalid) are not addresses.
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return None
    return email


def read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows with their line numbers, and the header; fails clearly on a bad file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, strict=True)
            header = [h.strip() for h in (reader.fieldnames or [])]
            email_columns = [h for h in header if h.lower() == "email"]
            if not email_columns:
                raise ImportFileError(f"{path}: no `email` column (columns: {header or 'none'})")
            if len(email_columns) > 1:
                raise ImportFileError(f"{path}: more than one email column "
                                      f"({', '.join(email_columns)}); keep one")
            rows = []
            for row in reader:
                rows.append((reader.line_num, dict(row)))
    except csv.Error as error:
        raise ImportFileError(f"{path}, line {reader.line_num}: {error} (an unterminated "
                              "quote?); nothing imported") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFileError(f"{path}: {error}") from error
    return rows, header


def import_rows(
    session: Session, workspace_id: int, rows: Iterable[tuple[int, Mapping[str, str | None]]]
) -> ImportResult:
    """Create or update subscribers; other columns become string attributes."""
    result = ImportResult()
    wanted: dict[str, tuple[str, dict[str, str]]] = {}
    first_line: dict[str, int] = {}
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
        if norm in first_line:
            result.merged.append((line, first_line[norm]))
        first_line.setdefault(norm, line)
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
