"""The `webhooks serve` command: the HTTP app (webhooks, settings page, APIs) on uvicorn."""

from __future__ import annotations

import uvicorn

from revsync.cli.console import console
from revsync.settings import Settings
from revsync.temporal.client import connect
from revsync.temporal.dev_server import ensure_dev_server
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
