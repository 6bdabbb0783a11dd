"""Run the three workers the plugin needs, until asked to stop."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from temporalio.client import Client
from temporalio.worker import Worker

from revsync.settings import Settings


def build_workers(client: Client, settings: Settings) -> list[Worker]:
    """Workflows and database activities; full-sync Stripe calls; webhook refetches."""
    queues = (settings.task_queue, settings.stripe_task_queue, settings.stripe_events_task_queue)
    return [Worker(client, task_queue=queue) for queue in queues]


async def run_until(client: Client, settings: Settings, stop: asyncio.Event) -> None:
    """Run the workers; on `stop`, finish in-flight tasks briefly, then shut down."""
    async with AsyncExitStack() as stack:
        for worker in build_workers(client, settings):
            await stack.enter_async_context(worker)
        await stop.wait()
