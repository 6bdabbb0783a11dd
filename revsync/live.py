"""The `webhooks serve` and `catch-up` commands: the async parts of the CLI."""

from __future__ import annotations

import uvicorn
from temporalio.client import WorkflowFailureError

from revsync.catch_up_client import start_catch_up
from revsync.console import console
from revsync.models import Workspace
from revsync.runner import root_cause
from revsync.settings import Settings
from revsync.temporal_client import connect
from revsync.temporal_server import ensure_dev_server
from revsync.web.app import create_app


async def serve_command(settings: Settings, host: str, port: int) -> int:
    """Serve the webhook endpoint (and the rest of the HTTP app) until interrupted."""
    ui = ensure_dev_server(settings.data_dir) or settings.temporal_ui_url
    client = await connect(settings)
    console.print(f"Stripe webhooks: POST http://{host}:{port}/webhooks/stripe/<workspace>")
    console.print(f"settings page:   http://{host}:{port}/settings/<workspace>")
    config = uvicorn.Config(
        create_app(settings, client, ui), host=host, port=port, lifespan="off",
        log_level="info",
    )
    await uvicorn.Server(config).serve()
    return 0


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
