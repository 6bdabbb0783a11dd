"""Sync run records: one row per sync, created at its start, finished with its counts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session, col, func, select

from revsync.store import workspaces
from revsync.store.models import StreamCheckpoint, SyncRun, utcnow
from revsync.sync.types import FinishInput, min_requests, stream_totals


def start(session: Session, workspace_id: int, workflow_id: str, run_key: str) -> SyncRun:
    """Create the run record once per sync; a retried activity finds the same row."""
    run = session.exec(select(SyncRun).where(SyncRun.run_key == run_key)).first()
    if run is None:
        run = SyncRun(workspace_id=workspace_id, workflow_id=workflow_id, run_key=run_key)
        session.add(run)
        session.commit()
        session.refresh(run)
    return run


def completed_before(session: Session, workspace_id: int, sync_run_id: int | None = None) -> bool:
    """Did a sync of the workspace (other than `sync_run_id`) complete? The first one fires
    no automations; a workspace never synced needs a sync before a re-derivation."""
    return session.exec(
        select(SyncRun.id).where(
            SyncRun.workspace_id == workspace_id,
            SyncRun.status == "completed",
            SyncRun.id != (sync_run_id or 0),
        )
    ).first() is not None


def get(session: Session, sync_run_id: int) -> SyncRun:
    run = session.get(SyncRun, sync_run_id)
    if run is None:
        raise LookupError(f"sync run {sync_run_id} does not exist")
    return run


def finish(session: Session, finish_input: FinishInput, customers: dict[str, int]) -> SyncRun:
    """Record the outcome: counts, requests made and the minimum they are measured against."""
    run = get(session, finish_input.sync_run_id)
    streams = finish_input.streams
    run.status = "failed" if finish_input.error else "completed"
    run.error = finish_input.error
    run.finished_at = utcnow()
    # The request ledger also holds requests of a stream that failed before committing.
    ledger = session.exec(select(func.coalesce(func.sum(StreamCheckpoint.requests_sent), 0))
                          .where(StreamCheckpoint.sync_run_id == run.id)).one()
    run.requests = max(sum(s.requests for s in streams), int(ledger))
    run.min_requests = min_requests(streams)
    counts: dict[str, Any] = asdict(finish_input.derive)
    counts["mrr_total"] = str(finish_input.derive.mrr_total)
    counts["ltv_total"] = str(finish_input.derive.ltv_total)
    counts["customers"] = customers
    counts["streams"] = {t.name: {"objects": t.objects, "requests": t.requests,
                                  "malformed": t.malformed} for t in stream_totals(streams)}
    counts["catalogue_requests"] = sum(s.requests for s in streams if s.catalogue)
    counts["nested_pages"] = sum(s.nested_pages for s in streams)
    run.counts = counts
    session.add(run)
    session.commit()
    return run


def recent_runs(session: Session, workspace_name: str, limit: int) -> list[SyncRun]:
    """The workspace's newest runs first."""
    workspace = workspaces.by_name(session, workspace_name)
    return list(
        session.exec(
            select(SyncRun)
            .where(SyncRun.workspace_id == workspace.id)
            .order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
            .limit(limit)
        )
    )
