"""Read-side views of sync runs for the CLI."""

from __future__ import annotations

from rich.table import Table
from sqlmodel import Session

from revsync.sync.runs import recent_runs


def status_table(session: Session, workspace_name: str, limit: int) -> Table:
    table = Table(title=f"Last syncs of workspace {workspace_name}")
    for column in ("run", "status", "started", "finished", "matched", "MRR", "LTV",
                   "requests / min"):
        table.add_column(column)
    for run in recent_runs(session, workspace_name, limit):
        counts = run.counts or {}
        table.add_row(
            str(run.id), run.status, f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            f"{run.finished_at:%H:%M:%S}" if run.finished_at else "-",
            str(counts.get("subscribers_matched", "-")), str(counts.get("mrr_total", "-")),
            str(counts.get("ltv_total", "-")), f"{run.requests} / {run.min_requests}",
        )
    return table
