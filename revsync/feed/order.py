"""Positions in the feed are handed out in commit order.

A reader pages the feed by position. If two transactions could take positions 7 and 8
and commit 8 first, a reader could see 8, move its cursor past 7, and never see 7. So
inserting entries and committing them happen under one lock, taken just before the
insert and held to the commit: positions (ids from the table's sequence) then grow in
the order entries become visible.

SQLite already has a single writer, whose transaction holds the database's write lock
from its first write to its commit. PostgreSQL takes a transaction-level advisory lock;
it is held only for the tail of a derivation (the insert and the commit), not while
subscribers are derived.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from revsync.store import db

# Any constant both writers agree on; names the lock in pg_locks (objid) when debugging.
FEED_LOCK = 0x7265_7673_6663  # "revsfc"


def hold(session: Session) -> None:
    """Take the feed's order until the caller's transaction ends."""
    if db.on_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
