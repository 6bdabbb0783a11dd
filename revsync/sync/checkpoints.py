"""Stream checkpoints: where each listing's cursor is saved, so a sync resumes.

A page and the checkpoint after it commit in one transaction, so a worker killed
between the commit and its reply to the workflow loses nothing and re-reads nothing.
The same row counts every Stripe request of the stream before it is sent
(`count_request`), so a kill never loses a request from the run's count; a kill that
lands between the count and the send adds one request that Stripe never saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from revsync.gateway.stripe_api import Page
from revsync.store import db, mirror
from revsync.store.models import StreamCheckpoint
from revsync.sync.types import StreamState


def checkpoint(session: Session, sync_run_id: int, stream: str) -> StreamCheckpoint | None:
    return session.get(StreamCheckpoint, (sync_run_id, stream))


def request_counter(url: str, sync_run_id: int, stream: str) -> Callable[[], None]:
    """What `gateway.metered` calls before each request of the stream: count it in the
    run's ledger (nothing to count outside a run, `sync_run_id` 0)."""
    return lambda: count_request(url, sync_run_id, stream) if sync_run_id else None


def count_request(url: str, sync_run_id: int, stream: str) -> None:
    """Count one Stripe request of the stream, committed before the request is sent."""
    with db.session(url) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = StreamCheckpoint.__table__  # type: ignore[attr-defined]
        statement = insert(table).values(sync_run_id=sync_run_id, stream=stream, pages=0,
                                         state={}, requests_sent=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=["sync_run_id", "stream"],
            set_={"requests_sent": table.c.requests_sent + 1}))
        session.commit()


def resume_point(session: Session, sync_run_id: int, given: StreamState) -> StreamState:
    """The furthest of the workflow's cursor and the committed checkpoint.

    The checkpoint is written in the same transaction as the page it follows, so a
    worker killed between commit and reply re-reads nothing it already stored.
    """
    saved = checkpoint(session, sync_run_id, given.key)
    if saved is None:
        return given
    state = given if saved.pages <= given.pages else StreamState(**saved.state)
    # The request ledger also holds the requests of pages that never committed.
    return replace(state, requests=max(state.requests, saved.requests_sent))


def commit_page(
    session: Session, workspace_id: int, sync_run_id: int, state: StreamState, page: Page,
    seconds: float = 0.0,
) -> StreamState:
    """Store one page and advance the stream's checkpoint, atomically; `seconds` is how
    long Stripe took to answer."""
    stored = mirror.upsert(
        session, state.name, workspace_id, page.objects, page.requested_at, seen_run=sync_run_id
    )
    advanced = replace(
        state,
        cursor=page.last_id or state.cursor,
        cursor_created=page.last_created if page.last_id else state.cursor_created,
        pages=state.pages + 1,
        objects=state.objects + len(page.objects),
        requests=state.requests + page.requests,
        done=not page.has_more,
        malformed=state.malformed + page.malformed + len(page.objects) - stored,
        newest_created=state.newest_created or page.newest_created,
        seconds=state.seconds + seconds,
        nested_pages=state.nested_pages + page.nested_pages,
    )
    row = checkpoint(session, sync_run_id, state.key) or StreamCheckpoint(
        sync_run_id=sync_run_id, stream=state.key
    )
    advanced = replace(advanced, requests=max(advanced.requests, row.requests_sent))
    row.pages, row.state = advanced.pages, asdict(advanced)
    session.add(row)
    session.commit()
    return advanced
