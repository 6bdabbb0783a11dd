"""The `catch-up` command's async part: replay missed events and report what happened."""

from __future__ import annotations

from temporalio.client import WorkflowFailureError

from revsync.cli.console import console
from revsync.cli.sync import root_cause
from revsync.events.catch_up_client import start_catch_up
from revsync.settings import Settings
from revsync.store.models import Workspace
from revsync.temporal.client import connect
from revsync.temporal.dev_server import ensure_dev_server


async def catch_up_command(settings: Settings, workspace: Workspace, since: int) -> int:
    """Replay the events since `since`; exit 1 if the catch-up failed."""
    ensure_dev_server(settings.data_dir)
    client = await connect(settings)
    handle = await start_catch_up(client, settings, workspace, since)
    console.print(f"catch-up workflow [bold]{handle.id}[/bold] (events since {since})")
    try:
        result = await handle.result(follow_runs=True)
    except WorkflowFailureError as error:
        console.print(f"[red]catch-up failed:[/red] {root_cause(error)}")
        return 1
    console.print(
        f"read {result.pages} page(s) of events: {result.events} not yet applied, "
        f"{result.started} event workflow(s) started, {result.failed} failed"
    )
    return 1 if result.failed else 0
