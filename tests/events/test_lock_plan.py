"""SQLite's plan for the subscribers an event locks: it reads them by key from the ids its
customers give, instead of visiting every subscriber of the workspace for each event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.dialects import sqlite

from revsync.events.apply import lock_statement
from revsync.store import db


def test_an_event_reads_its_subscribers_by_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plans.sqlite'}"
    db.migrate(url)
    compiled = lock_statement(1, ["cus_A", "cus_B"]).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with db.get_engine(url).connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled))]
    assert plan[0].startswith("SEARCH subscriber") and "rowid=?" in plan[0], plan
    assert not any(step.startswith("SCAN subscriber") for step in plan), plan
