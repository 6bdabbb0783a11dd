"""SQLite's plans for a count on metadata keys: it starts from the matching rows of a
`subscriber_metadata` index instead of visiting every subscriber of the workspace (the
difference between reading the matches and reading a million rows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from revsync.segments import parse
from revsync.segments.sql import count_statement
from revsync.store import db
from tests.segments import dataset


@pytest.mark.parametrize("text", ["plan = pro", "plan = pro AND seats > 4", "seats >= 5",
                                  'plan = pro AND seats < "5"'])
def test_a_metadata_count_starts_from_the_index(tmp_path: Path, text: str) -> None:
    url = f"sqlite:///{tmp_path / 'plans.sqlite'}"
    db.migrate(url)
    workspace_id = dataset.load(url)
    compiled = count_statement(parse(text), workspace_id, dataset.NOW).compile(
        dialect=sqlite.dialect())
    values = [compiled.params[name] for name in compiled.positiontup or []]
    values = [float(v) if not isinstance(v, int | str) else v for v in values]
    with db.get_engine(url).connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(values))]
    starts = plan[0]
    assert "rowid=?" in starts, plan  # one subscriber per listed id, not a scan
    assert any("USING COVERING INDEX ix_subscriber_metadata_ws_key" in step
               for step in plan), plan
