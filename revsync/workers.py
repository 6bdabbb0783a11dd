"""Run the two workers the plugin needs, until asked to stop."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.worker import Worker

from revsync.settings import Settings


def build_workers(client: Client, settings: Settings) -> list[Worker]:
    """One worker for workflows and database activities, one for Stripe calls."""
    return [
        Worker(client, task_queue=settings.task_queue),
        Worker(client, task_queue=settings.stripe_task_queue),
    ]


async def run_until(client: Client, settings: Settings, stop: asyncio.Event) -> None:
    """Run both workers; on `stop`, finish in-flight tasks briefly, then shut down."""
    workers = build_workers(client, settings)
    async with workers[0], workers[1]:
        await stop.wait()
