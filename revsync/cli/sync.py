"""The `sync` command's async part: start or attach, show progress, print the summary."""

from __future__ import annotations

from sqlmodel import func, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError

from revsync.cli.console import SyncProgress, console, summary_table
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Subscriber, Workspace
from revsync.sync.client import follow, start_sync, ui_url
from revsync.temporal.client import connect
from revsync.temporal.dev_server import ensure_dev_server


def subscriber_count(settings: Settings, workspace: Workspace) -> int:
    with db.session(settings.resolved_database_url) as session:
        query = select(func.count()).where(Subscriber.workspace_id == workspace.id)
        return int(session.exec(query).one())


async def has_workers(client: Client, task_queue: str) -> bool:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(described.pollers)


def root_cause(error: BaseException) -> str:
    """The innermost failure's message: the reason, without Temporal's wrapping."""
    while error.__cause__ is not None:
        error = error.__cause__
    return str(getattr(error, "message", None) or error)


async def run_sync(client: Client, settings: Settings, workspace: Workspace, ui: str | None,
                   wait: bool, fire_automations: bool | None = None) -> int:
    """Start or attach, show progress, print the summary; exit code 1 if the sync failed."""
    handle = await start_sync(client, settings, workspace, fire_automations=fire_automations)
    console.print(f"sync workflow [bold]{handle.id}[/bold]")
    if ui:
        console.print(f"Temporal UI: {ui_url(ui, client.namespace, handle.id)}")
    if not wait:
        return 0
    try:
        with SyncProgress(subscriber_count(settings, workspace)) as progress:
            report = await follow(handle, progress.update)
    except WorkflowFailureError as error:
        console.print(f"[red]sync failed:[/red] {root_cause(error)}")
        return 1
    console.print(summary_table(report, workspace.reporting_currency))
    if ui:
        console.print(f"Temporal UI: {ui_url(ui, client.namespace, handle.id)}")
    return 0


def connected_workspace(settings: Settings, workspace_name: str) -> Workspace:
    """The workspace to sync; WorkspaceError if it is missing or has no Stripe key."""
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
    if not workspace.stripe_key_encrypted:
        raise workspaces.WorkspaceError(
            f"workspace {workspace_name!r} is not connected to Stripe; run `connect`"
        )
    return workspace


async def sync_command(settings: Settings, workspace: Workspace, wait: bool,
                       fire_automations: bool | None = None) -> int:
    ui = ensure_dev_server(settings.data_dir)
    client = await connect(settings)
    if not await has_workers(client, settings.task_queue):
        console.print(f"[yellow]no worker polls task queue {settings.task_queue!r}: "
                      "start one with `python worker.py`[/yellow]")
    return await run_sync(client, settings, workspace, ui, wait, fire_automations)
