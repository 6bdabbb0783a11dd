"""Stream checkpoints: where each listing's cursor is saved, so a sync resumes.

A page and the checkpoint after it commit in one transaction, so a worker killed
between the commit and its reply to the workflow loses nothing and re-reads nothing.
"""

from __future__ import annotations

from dataclasses import asdict, replace

from sqlmodel import Session

from revsync.gateway.stripe_api import Page
from revsync.store import mirror
from revsync.store.models import StreamCheckpoint
from revsync.sync.types import StreamState


def checkpoint(session: Session, sync_run_id: int, stream: str) -> StreamCheckpoint | None:
    return session.get(StreamCheckpoint, (sync_run_id, stream))


def resume_point(session: Session, sync_run_id: int, given: StreamState) -> StreamState:
    """The furthest of the workflow's cursor and the committed checkpoint.

    The checkpoint is written in the same transaction as the page it follows, so a
    worker killed between commit and reply re-reads nothing it already stored.
    """
    saved = checkpoint(session, sync_run_id, given.key)
    if saved is None or saved.pages <= given.pages:
        return given
    return StreamState(**saved.state)


def commit_page(
    session: Session, workspace_id: int, sync_run_id: int, state: StreamState, page: Page
) -> StreamState:
    """Store one page and advance the stream's checkpoint, atomically."""
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
    )
    row = checkpoint(session, sync_run_id, state.key) or StreamCheckpoint(
        sync_run_id=sync_run_id, stream=state.key
    )
    row.pages, row.state = advanced.pages, asdict(advanced)
    session.add(row)
    session.commit()
    return advanced
