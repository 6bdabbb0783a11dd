"""Sync history for the settings page and API: counts, requests, duration, outcome."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from revsync.sync.client import ui_url
from revsync.sync.runs import recent_runs


def history(session: Session, workspace_name: str, ui_base: str | None, namespace: str,
            limit: int = 20) -> list[dict[str, Any]]:
    rows = []
    for run in recent_runs(session, workspace_name, limit):
        duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        counts = run.counts or {}
        rows.append({
            "id": run.id,
            "status": run.status,
            "started_at": run.started_at.isoformat(),
            "duration_seconds": None if duration is None else round(duration, 1),
            "requests": run.requests,
            "min_requests": run.min_requests,
            "subscribers_matched": counts.get("subscribers_matched"),
            "subscribers_changed": counts.get("subscribers_changed"),
            "mrr_total": counts.get("mrr_total"),
            "ltv_total": counts.get("ltv_total"),
            "error": run.error,
            "workflow_url": ui_url(ui_base, namespace, run.workflow_id) if ui_base else None,
        })
    return rows
