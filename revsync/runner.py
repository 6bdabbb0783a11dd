"""The `sync` and `demo` commands: the async parts of the CLI."""

from __future__ import annotations

import asyncio
import contextlib

from sqlmodel import func, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError

from revsync import connection, db, subscribers, workspaces
from revsync.console import SyncProgress, console, summary_table
from revsync.demo_live import simulate
from revsync.fake_stripe import (
    FakeStripe,
    FakeStripeServer,
    generate_account,
    subscriber_emails,
)
from revsync.models import Subscriber, Workspace
from revsync.settings import Settings
from revsync.sync_client import follow, start_sync, ui_url
from revsync.temporal_client import connect
from revsync.temporal_server import ensure_dev_server
from revsync.web.app import create_app
from revsync.web.running import running
from revsync.workers import run_until

DEMO_WORKSPACE = "demo"
DEMO_KEY = "sk_test_demo_revsync"
DEMO_FX_RATES = {"eur": "1.08", "gbp": "1.27", "jpy": "0.0066"}  # fixed, for reproducibility


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


async def demo_command(
    settings: Settings, customers: int, seed: int, live_seconds: float | None = None
) -> int:
    """Dev server, fake Stripe, subscribers, workers in-process, one full sync.

    With `live_seconds` (0: until Ctrl-C), the webhook app then serves and the fake
    delivers signed events for simulated changes.
    """
    ui = ensure_dev_server(settings.data_dir)
    console.print(f"seeding a fake Stripe account with {customers:,} customers (seed {seed})")
    account = generate_account(customers=customers, seed=seed)
    state = FakeStripe(api_keys=[DEMO_KEY])
    state.load(account)
    with FakeStripeServer(state, deliver_webhooks=live_seconds is not None) as fake:
        opts = connection.options(api_base=fake.base_url, metadata_keys=["plan", "company"],
                                  fx_rates=DEMO_FX_RATES)
        connection.connect(settings, DEMO_WORKSPACE, DEMO_KEY, opts)
        emails = subscriber_emails(account, match_ratio=0.9, seed=seed)
        with db.session(settings.resolved_database_url) as session:
            workspace = workspaces.by_name(session, DEMO_WORKSPACE)
            assert workspace.id is not None
            imported = subscribers.import_rows(
                session, workspace.id, [(n, {"email": e}) for n, e in enumerate(emails, 2)]
            )
        console.print(f"subscribers: {imported.created:,} new, {len(emails):,} in the list")
        client = await connect(settings)
        stop = asyncio.Event()
        workers = asyncio.create_task(run_until(client, settings, stop))
        try:
            code = await run_sync(client, settings, workspace, ui, wait=True)
            if code == 0 and live_seconds is not None:
                await demo_live(client, settings, opts, state, live_seconds, seed, ui)
            return code
        finally:
            stop.set()
            await workers


async def demo_live(client: Client, settings: Settings, opts: connection.Options,
                    state: FakeStripe, seconds: float, seed: int, ui: str | None) -> None:
    """Serve the webhook endpoint, register it with the fake Stripe, simulate changes."""
    async with running(create_app(settings, client, ui), settings.http_host,
                       settings.http_port) as base_url:
        live_opts = opts.model_copy(update={"webhook_url": base_url})
        connection.connect(settings, DEMO_WORKSPACE, DEMO_KEY, live_opts)
        with db.session(settings.resolved_database_url) as session:
            workspace = workspaces.by_name(session, DEMO_WORKSPACE)
        console.print(f"webhooks: {base_url}/webhooks/stripe/{DEMO_WORKSPACE} "
                      "(registered with the fake Stripe); Ctrl-C stops")
        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
            await simulate(state, settings, workspace, seconds, seed)
