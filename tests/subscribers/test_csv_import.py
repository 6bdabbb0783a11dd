"""CSV import of subscribers: addresses validated (no DNS), rows refused and merged
reported by line, unusable files and ambiguous headers refused as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Subscriber
from revsync.subscribers import csv_import


def imported(settings: Settings, path: Path) -> tuple[csv_import.ImportResult, list[str]]:
    rows, _ = csv_import.read_csv(path)
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.get_or_create(session, "csv")
        assert ws.id is not None
        result = csv_import.import_rows(session, ws.id, rows)
        emails = sorted(s.email for s in session.exec(select(Subscriber)))
    return result, emails


def csv_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("address", [
    "<c@d.com>", "j@@k.com", "a\u202eb@x.com", "ann@x.com\u200b", "ann@x", "x@localhost",
    "Ann <ann@x.io>", "ann @x.io", "ann@x..io",
])
def test_an_address_that_is_not_one_is_refused_with_its_line(
    settings: Settings, tmp_path: Path, address: str
) -> None:
    path = csv_file(tmp_path, f'email\nok@x.io\n"{address}"\n')
    result, emails = imported(settings, path)
    assert emails == ["ok@x.io"]
    assert result.created == 1
    assert [line for line, _ in result.rejected] == [3]
    assert "not an email address" in result.rejected[0][1]


def test_international_addresses_are_kept(settings: Settings, tmp_path: Path) -> None:
    path = csv_file(tmp_path, "email\npat+tag@exämple.com\né@x.io\n")
    result, emails = imported(settings, path)
    assert (result.created, result.rejected) == (2, [])
    assert emails == ["pat+tag@exämple.com", "é@x.io"]


def test_an_unterminated_quote_refuses_the_file(settings: Settings, tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'email,n\n"unterminated@example.com,1\nbob@example.com,2\n')
    with pytest.raises(csv_import.ImportFileError, match=r"unterminated|unexpected end"):
        csv_import.read_csv(path)


def test_rows_that_fold_to_one_address_are_merged_and_reported(
    settings: Settings, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "email,plan\nAnn@X.io,basic\nbob@x.io,pro\n ann@x.IO ,pro\n")
    result, emails = imported(settings, path)
    assert emails == ["ann@x.IO", "bob@x.io"]  # the last row of a merge wins
    assert result.created == 2
    assert result.merged == [(4, 2)]  # line 4 merged into line 2


@pytest.mark.parametrize("header", ["email,Email", "Email,EMAIL,name", "email, email "])
def test_two_email_columns_refuse_the_file(settings: Settings, tmp_path: Path,
                                           header: str) -> None:
    path = csv_file(tmp_path, f"{header}\na@x.io,b@x.io,c\n")
    with pytest.raises(csv_import.ImportFileError, match="more than one email column"):
        csv_import.read_csv(path)
