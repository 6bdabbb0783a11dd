"""Deliver each workspace's changes to an activity on the platform's own workers.

The platform registers an activity (any name, on its own task queue) taking one
`ChangeBatch`, and names both in the settings (`REVSYNC_SINK_ACTIVITY`,
`REVSYNC_SINK_TASK_QUEUE`). One `ChangeSinkWorkflow` per workspace hands it the
workspace's feed in order, a batch at a time, and moves on only once the call
succeeded; Temporal retries a failing call with backoff for as long as it fails.

Delivery is at least once: a batch that succeeded just before its worker died is handed
over again, so the sink keeps the highest `position` it applied and skips the rest.
A sink that fails or is slow holds back only its own workspace's workflow, and its
calls carry the workspace as their fairness key, so one workspace's backlog on the
platform's queue does not starve the others.

Whoever commits feed entries nudges the workspace's workflow afterwards (a signal, which
starts it if it is not running); an idle workflow waits for the next nudge without a
timer, so a quiet workspace costs nothing.
"""

# Annotations are evaluated (no `from __future__ import annotations`): the types here
# cross the workflow sandbox, which resolves string annotations against its own module
# table, where this module may be missing.

import logging
from dataclasses import dataclass

from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError

from revsync.feed import entries
from revsync.feed.entries import Change
from revsync.settings import Settings
from revsync.store.models import SinkCursor, utcnow

log = logging.getLogger(__name__)

SINK_WORKFLOW = "ChangeSinkWorkflow"
NUDGE = "nudge"
FROM_STORED = -1  # the acknowledged position is the stored one (a new workflow run)


@dataclass(frozen=True)
class ChangeBatch:
    """What the platform's sink activity receives: changes in feed order."""

    workspace_id: int
    workspace: str
    changes: list[Change]


@dataclass
class SinkInput:
    workspace_id: int
    activity: str
    task_queue: str
    batch_size: int
    timeout_seconds: int  # one call of the sink activity, then it is retried
    acknowledged: int = FROM_STORED


@dataclass
class SinkRead:
    workspace_id: int
    acknowledged: int  # every entry up to here was delivered; FROM_STORED: read it
    limit: int


@dataclass
class SinkPage:
    batch: ChangeBatch
    acknowledged: int  # the position the sink has acknowledged, as stored


def sink_workflow_id(workspace_id: int) -> str:
    return f"revsync-sink/{workspace_id}"


def next_batch(session: Session, request: SinkRead) -> SinkPage:
    """Store what the sink acknowledged, then read what comes after it; the caller commits.

    The stored position only grows, so a late retry of an older read never re-delivers
    what a newer one acknowledged.
    """
    row = session.get(SinkCursor, request.workspace_id, with_for_update=True)
    if row is None:
        row = SinkCursor(workspace_id=request.workspace_id, position=0)
    if request.acknowledged > row.position:
        row.position, row.updated_at = request.acknowledged, utcnow()
    session.add(row)
    changes = entries.after_position(session, row.position, request.limit,
                                     request.workspace_id)
    name = changes[0].workspace if changes else ""
    return SinkPage(ChangeBatch(request.workspace_id, name, changes), row.position)


async def nudge(client: Client, settings: Settings, workspace_id: int) -> None:
    """Tell the workspace's sink workflow there is more to deliver (start it if needed).

    Best effort: the entries are committed already, and the next nudge delivers them if
    this one cannot reach Temporal."""
    if settings.sink_activity is None or settings.sink_task_queue is None:
        return
    start = SinkInput(workspace_id, settings.sink_activity, settings.sink_task_queue,
                      settings.sink_batch_size, settings.sink_timeout_seconds)
    try:
        await client.start_workflow(
            SINK_WORKFLOW, start, id=sink_workflow_id(workspace_id),
            task_queue=settings.task_queue, start_signal=NUDGE,
            static_summary=f"changes of workspace {workspace_id} to {settings.sink_activity}")
    except RPCError as error:
        log.warning("could not nudge the change sink of workspace %s: %s", workspace_id,
                    error.message)
