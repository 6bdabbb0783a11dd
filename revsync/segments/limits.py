"""What one segment may cost the database: how many subqueries it runs, and for how long.

One shared database serves every workspace, and a segment runs wherever a tenant asks
(a count, a page of members, the subscribers list, a rule's condition). An expression
within the length limit can still compile to a hundred subqueries per subscriber, so:

* the parser refuses an expression with more than `REVSYNC_SEGMENT_MAX_SUBQUERIES`
  comparisons that the database runs as a subquery per subscriber;
* every segment query runs under `time_limited`: past
  `REVSYNC_SEGMENT_STATEMENT_SECONDS` the database stops it (PostgreSQL's
  `statement_timeout` for the transaction; SQLite's progress handler) and
  `SegmentTooSlow` says so.

Both are the deployment's settings, read from the process's settings here rather than
passed by each caller, so no path that parses or runs a segment can leave them out.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from revsync.segments import attributes, tag_bits
from revsync.segments.attributes import Kind
from revsync.segments.nodes import Comparison, Text
from revsync.settings import get_settings
from revsync.store import db

# SQLite calls the progress handler every this many virtual machine instructions: about
# a millisecond of work, so a deadline is kept to within a few milliseconds.
SQLITE_CHECK_EVERY = 10_000
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout


class SegmentTooSlow(Exception):
    """The database stopped a segment query at the deployment's time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the segment took longer than {seconds:g} s, the limit of one "
                         "segment query (REVSYNC_SEGMENT_STATEMENT_SECONDS); narrow it, or "
                         "use fewer engagement and tag conditions")
        self.seconds = seconds


def runs_subquery(comparison: Comparison) -> bool:
    """Whether the database runs this comparison as a subquery per subscriber: engagement
    counts, and tags that are not bits of the subscriber row."""
    kind = attributes.kind(comparison.attribute)
    if kind in (Kind.OPENS, Kind.CLICKS):
        return True
    if kind is not Kind.TAG:
        return False
    value = comparison.value
    tag = value.value if isinstance(value, Text) else format(value.value, "f")
    return tag_bits.bit(tag) is None


def max_subqueries() -> int:
    return get_settings().segment_max_subqueries


@contextmanager
def time_limited(session: Session, seconds: float | None = None) -> Iterator[None]:
    """Run the block's statements under the time limit; `SegmentTooSlow` past it."""
    limit = get_settings().segment_statement_seconds if seconds is None else seconds
    if db.on_postgresql(session):
        with _postgresql_timeout(session, limit):
            yield
        return
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    deadline = time.monotonic() + limit
    raw.set_progress_handler(lambda: time.monotonic() > deadline, SQLITE_CHECK_EVERY)
    try:
        yield
    except OperationalError as error:
        if "interrupted" not in str(error.orig):
            raise
        session.rollback()
        raise SegmentTooSlow(limit) from None
    finally:
        raw.set_progress_handler(None, SQLITE_CHECK_EVERY)


@contextmanager
def _postgresql_timeout(session: Session, limit: float) -> Iterator[None]:
    """`statement_timeout` for this transaction only (set_config(..., true) is SET LOCAL
    with a bound value), put back afterwards for whatever else the transaction runs.

    JIT compilation is off for the same span: PostgreSQL compiles a query whose
    estimated cost passes `jit_above_cost`, which takes tens of milliseconds, longer
    than a segment query runs. The estimate counts an engagement test's fall-back
    subquery (`revsync.segments.sql._engagement`) for every row, where it runs only
    for a subscriber whose latest event lies after `now`.
    """
    before = session.execute(text("SELECT current_setting('statement_timeout'), "
                                  "current_setting('jit')")).one()
    _set_local(session, str(max(1, round(limit * 1000))), "off")
    try:
        yield
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != QUERY_CANCELED:
            raise
        session.rollback()  # the transaction is aborted; the settings end with it
        raise SegmentTooSlow(limit) from None
    _set_local(session, *before)


def _set_local(session: Session, statement_timeout: str, jit: str) -> None:
    session.execute(text("SELECT set_config('statement_timeout', :timeout, true), "
                         "set_config('jit', :jit, true)"),
                    {"timeout": statement_timeout, "jit": jit})
