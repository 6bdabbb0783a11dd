"""Subscribers from the host platform: CSV import with an `email` column.

Addresses are checked as the API checks them (`addresses`), a bad one refused with its
line. Rows whose addresses fold to one (case, spaces) are merged, the later row
winning, and reported. A file with an unterminated quote, or with two columns that
could both be the email, is refused as a whole: guessing would store the wrong thing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from revsync.subscribers import upsert
from revsync.subscribers.addresses import checked_email

CHUNK = upsert.MAX_BATCH  # rows written and derived per transaction


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, unreadable, no `email` column)."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (line, merged into line)


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
    """Create or update subscribers; other columns become string attributes.

    Written and derived at once (`upsert`), `CHUNK` rows per transaction, each committed:
    a subscriber matching a mirrored Stripe customer has its values when the command
    ends. An import stopped half way is finished by running it again (rows already in
    are unchanged). Pass a `db.locked_session`, as for every derivation.
    """
    result = ImportResult()
    wanted: dict[str, upsert.Wanted] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        lowered = {(k or "").strip().lower(): v for k, v in row.items()}
        try:
            email, norm = checked_email(lowered.get("email"))
        except ValueError as problem:
            result.rejected.append((line, str(problem)))
            continue
        attributes = {
            (k or "").strip(): (v or "").strip()
            for k, v in row.items()
            if k and k.strip().lower() != "email" and v is not None
        }
        if norm in first_line:
            result.merged.append((line, first_line[norm]))
        first_line.setdefault(norm, line)
        wanted[norm] = upsert.Wanted(email, attributes=attributes)
    items = list(wanted.values())
    for start in range(0, len(items), CHUNK):
        for written in upsert.upsert(session, workspace_id, items[start:start + CHUNK]):
            result.created += written.status == upsert.CREATED
            result.updated += written.status == upsert.UPDATED
        session.commit()
    return result
