"""`revsync export --format csv`: a cell a spreadsheet would read as a formula is written
as text; the numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from revsync.subscribers import export

# Addresses the import accepts (`=`, `+` and `-` are ordinary in the local part).
FORMULAS = ["=1+2@example.com", "+1-2@example.com", "-1+2@example.com"]


def exported(settings: Settings, rows: list[tuple[str, D | None]]) -> list[dict[str, str]]:
    with db.session(settings.resolved_database_url) as session:
        workspace = Workspace(name="shop")
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        for email, mrr in rows:
            session.add(Subscriber(workspace_id=workspace.id, email=email,
                                   email_norm=email.lower(), mrr=mrr, ltv=mrr,
                                   stripe_metadata={"plan": "=HYPERLINK(\"x\")"}))
        session.commit()
        out = io.StringIO()
        assert export.write(session, workspace.id, out, "csv") == len(rows)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_formula_cells_are_written_as_text_and_numbers_as_numbers(settings: Settings) -> None:
    rows = exported(settings, [*((email, D("10.00")) for email in FORMULAS),
                               ("ann@example.com", D("-12.50"))])
    assert [row["email"] for row in rows] == [f"'{email}" for email in FORMULAS] + [
        "ann@example.com"]
    # Negative amounts are numbers we formatted, not text from outside: left as they are.
    assert [row["mrr"] for row in rows] == ["10.00"] * 3 + ["-12.50"]
    assert rows[-1]["ltv"] == "-12.50"
    # The metadata cell is JSON: it starts with `{`, never read as a formula.
    assert rows[0]["metadata"] == '{"plan": "=HYPERLINK(\\"x\\")"}'


def test_every_formula_start_is_escaped() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert export.cell(f"{start}x") == f"'{start}x"
    assert export.cell("x=1") == "x=1"
    assert export.cell("") == ""
