"""SQLite's plans: a count on metadata keys starts from the matching rows of a
`subscriber_metadata` index instead of visiting every subscriber of the workspace (the
difference between reading the matches and reading a million rows); a revenue range
with an engagement zero test is counted from one index alone; a page on a
revenue equality walks that index in id order instead of sorting the whole range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from revsync.segments import parse
from revsync.segments.sql import count_statement, members_statement
from revsync.store import db
from tests.segments import dataset


def plan_of(tmp_path: Path, statement: Callable[[int], Any]) -> list[str]:
    """The plan of `statement(workspace_id)` over the hand-built data set, as sent."""
    url = f"sqlite:///{tmp_path / 'plans.sqlite'}"
    db.migrate(url)
    workspace_id = dataset.load(url)
    compiled = statement(workspace_id).compile(dialect=sqlite.dialect())
    values = [compiled.params[name] for name in compiled.positiontup or []]
    values = [float(v) if not isinstance(v, int | str | datetime) else v for v in values]
    values = [v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
              for v in values]
    with db.get_engine(url).connect() as conn:
        return [row[3] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(values))]


@pytest.mark.parametrize("text", ["plan = pro", "plan = pro AND seats > 4", "seats >= 5",
                                  'plan = pro AND seats < "5"'])
def test_a_metadata_count_starts_from_the_index(tmp_path: Path, text: str) -> None:
    plan = plan_of(tmp_path, lambda ws: count_statement(parse(text), ws, dataset.NOW))
    starts = plan[0]
    assert "rowid=?" in starts, plan  # one subscriber per listed id, not a scan
    assert any("USING COVERING INDEX ix_subscriber_metadata_ws_key" in step
               for step in plan), plan


def test_an_engagement_zero_test_is_counted_from_one_index(tmp_path: Path) -> None:
    text = "mrr >= 50 AND opened_emails_last_30_days = 0"
    plan = plan_of(tmp_path, lambda ws: count_statement(parse(text), ws, dataset.NOW))
    assert plan[0].startswith("SEARCH subscriber USING COVERING INDEX "
                              "ix_subscriber_ws_mrr_latest"), plan


def test_a_page_on_a_revenue_equality_walks_in_id_order(tmp_path: Path) -> None:
    text = "tag = trial AND mrr = 0"
    plan = plan_of(tmp_path, lambda ws: members_statement(parse(text), ws, dataset.NOW, 0,
                                                          100))
    assert plan[0].startswith("SEARCH subscriber USING INDEX ix_subscriber_ws_mrr "
                              "(workspace_id=? AND mrr=? AND id>?)"), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
