"""Start the catch-up of missed webhook events, or say why a full sync is needed."""

from __future__ import annotations

import time

from sqlmodel import col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from revsync.budget.lookup import priority_of
from revsync.events.types import EVENT_WINDOW_SECONDS, CatchUpInput, CatchUpResult
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import SyncRun, Workspace

WORKFLOW = "StripeCatchUp"


class CatchUpError(Exception):
    """Catch-up cannot cover the gap; the message says what to run instead."""


def default_since(settings: Settings, workspace: Workspace) -> int:
    """The start of the last completed full sync: it saw everything before that moment."""
    with db.session(settings.resolved_database_url) as session:
        run = session.exec(
            select(SyncRun)
            .where(SyncRun.workspace_id == workspace.id, SyncRun.status == "completed")
            .order_by(col(SyncRun.started_at).desc())
        ).first()
    if run is None:
        raise CatchUpError(
            f"workspace {workspace.name!r} has no completed full sync to catch up from; "
            f"run `starter.py sync --workspace {workspace.name}`"
        )
    return int(run.started_at.timestamp())


def check_window(workspace: Workspace, since: int, now: float | None = None) -> None:
    oldest = int(time.time() if now is None else now) - EVENT_WINDOW_SECONDS
    if since < oldest:
        raise CatchUpError(
            "Stripe keeps events for 30 days only, and the gap starts before that; "
            f"run a full sync instead: `starter.py sync --workspace {workspace.name}`"
        )


async def start_catch_up(
    client: Client, settings: Settings, workspace: Workspace, since: int
) -> WorkflowHandle[object, CatchUpResult]:
    assert workspace.id is not None
    return await client.start_workflow(
        WORKFLOW,
        CatchUpInput(
            workspace_id=workspace.id,
            workspace_name=workspace.name,
            since=since,
            stripe_events_task_queue=settings.stripe_events_task_queue,
        ),
        id=f"stripe-catch-up/{workspace.name}",
        task_queue=settings.task_queue,
        result_type=CatchUpResult,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Replay Stripe events of workspace {workspace.name} since {since}",
        priority=priority_of(settings, workspace),  # event workflows inherit it
    )
