"""Engagement import on both databases: all or nothing, unknown emails counted,
duplicates skipped, times normalised to UTC; and the counts segments see."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from revsync.segments import parse
from revsync.segments.sql import count_statement
from revsync.store import db, workspaces
from revsync.store.models import EmailEvent
from revsync.subscribers import csv_import, email_events


@pytest.fixture
def workspace_id(database_url: str) -> int:
    with db.session(database_url) as session:
        ws = workspaces.get_or_create(session, "shop")
        assert ws.id is not None
        csv_import.import_rows(session, ws.id, [(2, {"email": "Ann@x.test"}),
                                                 (3, {"email": "bob@x.test"})])
        return ws.id


def rows(text: str, tmp_path: Path) -> list[tuple[int, dict[str, str]]]:
    path = tmp_path / "events.csv"
    path.write_text(text)
    return email_events.read_csv(path)


def stored(url: str) -> list[tuple[str, datetime]]:
    with db.session(url) as session:
        return sorted(((e.kind, e.occurred_at.replace(tzinfo=UTC) if e.occurred_at.tzinfo is None
                        else e.occurred_at.astimezone(UTC))
                       for e in session.exec(select(EmailEvent))), key=lambda x: (x[1], x[0]))


def test_import_counts_skips_and_normalises(database_url: str, workspace_id: int,
                                            tmp_path: Path) -> None:
    csv_rows = rows("Email,Kind,Occurred_At\n"
                    "ann@x.test,open,2026-06-10T10:00:00Z\n"
                    " ANN@X.TEST ,CLICK,2026-06-10T12:00:00+02:00\n"
                    "bob@x.test,open,2026-06-11 08:30\n"
                    "nobody@x.test,open,2026-06-11T08:30:00Z\n"
                    "ann@x.test,open,2026-06-10T10:00:00+00:00\n", tmp_path)
    with db.session(database_url) as session:
        result = email_events.import_rows(session, workspace_id, csv_rows)
    assert (result.imported, result.unknown_email, result.duplicates, result.rejected) == (
        3, 1, 1, [])
    assert stored(database_url) == [
        ("click", datetime(2026, 6, 10, 10, 0, tzinfo=UTC)),
        ("open", datetime(2026, 6, 10, 10, 0, tzinfo=UTC)),
        ("open", datetime(2026, 6, 11, 8, 30, tzinfo=UTC)),
    ]
    with db.session(database_url) as session:  # importing again changes nothing
        again = email_events.import_rows(session, workspace_id, csv_rows)
        assert (again.imported, again.duplicates) == (0, 4)
        now = datetime(2026, 6, 12, tzinfo=UTC)
        count = session.execute(count_statement(parse("opened_emails_last_30_days = 1 AND "
                                                      "clicked_emails_last_30_days = 1"),
                                                workspace_id, now)).scalar_one()
        assert count == 1
    assert len(stored(database_url)) == 3


def test_one_malformed_row_imports_nothing(database_url: str, workspace_id: int,
                                           tmp_path: Path) -> None:
    csv_rows = rows("email,kind,occurred_at\n"
                    "ann@x.test,open,2026-06-10T10:00:00Z\n"
                    "ann@x.test,bounce,2026-06-10T10:00:00Z\n"
                    "not-an-email,open,2026-06-10T10:00:00Z\n"
                    "bob@x.test,click,yesterday\n"
                    "bob@x.test,click,\n", tmp_path)
    with db.session(database_url) as session:
        result = email_events.import_rows(session, workspace_id, csv_rows)
    assert result.imported == 0
    assert result.rejected == [
        (3, "kind must be open or click, not 'bounce'"),
        (4, "not an email address: 'not-an-email'"),
        (5, "occurred_at is not an ISO 8601 time: 'yesterday'"),
        (6, "occurred_at is not an ISO 8601 time: ''"),
    ]
    assert stored(database_url) == []


@pytest.mark.parametrize("content, message", [
    (None, "No such file"),
    ("email,kind\nann@x.test,open\n", "missing column(s) occurred_at"),
    ("", "missing column(s) email, kind, occurred_at"),
    (b"\xff\xfe\x00garbage", "codec"),
])
def test_unusable_files(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "events.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(email_events.EventsFileError, match=message.replace("(", r"\(")
                       .replace(")", r"\)")):
        email_events.read_csv(path)
