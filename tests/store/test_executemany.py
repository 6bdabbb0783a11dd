"""Rows handed to SQLite's executemany are stored exactly as SQLAlchemy's own
executemany stores them: the same JSON text, numbers and times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    insert,
    text,
    update,
)
from sqlmodel import Session

from revsync.store import db
from revsync.store.executemany import executemany

METADATA = MetaData()
TABLES = [Table(name, METADATA, Column("id", Integer, primary_key=True),
                Column("kind", String(20), nullable=False),
                Column("amount", Numeric(18, 2)), Column("data", JSON, nullable=False),
                Column("at", DateTime), Column("counted", Integer, default=0))
          for name in ("theirs", "ours")]
ROWS = [{"id": 1, "kind": "a", "amount": Decimal("15.83"), "data": {"b": [1, "ü"], "a": None},
         "at": datetime(2026, 12, 5, 6, 20, 3, 279649, tzinfo=UTC), "counted": 1},
        {"id": 2, "kind": "a", "amount": Decimal("95.00"), "data": [], "at": None,
         "counted": 2},
        {"id": 3, "kind": "b", "amount": None, "data": {}, "at": None, "counted": 3}]


def stored(session: Session, table: str) -> list[tuple[object, ...]]:
    columns = ", ".join(f"{c}, typeof({c})" for c in ("amount", "data", "at", "counted"))
    return list(session.execute(text(f"SELECT id, {columns} FROM {table} ORDER BY id")))


def test_rows_are_stored_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    METADATA.create_all(engine)
    theirs, ours = TABLES
    changed = {"amount": Decimal("1.50"), "data": {"x": "1"},
               "at": datetime(2027, 1, 1, tzinfo=UTC)}
    with Session(engine) as session:
        session.execute(insert(theirs), ROWS)
        executemany(session, insert(ours), ROWS)
        for table in TABLES:  # a value the statement carries (`kind = 'a'`) and the rows'
            statement = update(table).where(table.c.id == bindparam("key"),
                                            table.c.kind == "a") \
                .values({c: bindparam(c) for c in changed})
            rows = [{"key": row["id"], **changed} for row in ROWS]
            if table is theirs:
                session.execute(statement, rows)
            else:
                executemany(session, statement, rows)
        assert stored(session, "ours") == stored(session, "theirs")
        assert stored(session, "ours")[0][1:3] == (1.5, "real")


def test_a_column_default_must_be_given(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    METADATA.create_all(engine)
    without = [{k: v for k, v in row.items() if k != "counted"} for row in ROWS]
    with Session(engine) as session, pytest.raises(ValueError, match="counted"):
        executemany(session, insert(TABLES[1]), without)
