"""Run the revenue-sync workers (settings from the environment / `.env`)."""

from __future__ import annotations

import asyncio
import signal

from revsync import db
from revsync.console import console
from revsync.process import exit_now
from revsync.settings import get_settings
from revsync.temporal_client import connect
from revsync.temporal_server import ensure_dev_server
from revsync.workers import run_until


async def main() -> None:
    settings = get_settings()
    db.migrate(settings.resolved_database_url)
    ensure_dev_server(settings.data_dir)
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    queues = (settings.task_queue, settings.stripe_task_queue, settings.stripe_events_task_queue)
    console.print(
        f"workers polling {', '.join(map(repr, queues))} (Stripe budget: sync "
        f"{settings.stripe_requests_per_second}/s, webhooks "
        f"{settings.stripe_event_requests_per_second}/s)"
    )
    await run_until(client, settings, stop)


if __name__ == "__main__":
    asyncio.run(main())
    exit_now(0)
