"""Run the three workers the plugin needs, until asked to stop."""

from __future__ import annotations

import asyncio
import gc
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from revsync.budget.task_queues import BudgetScope
from revsync.settings import Settings, get_settings


def task_queues(settings: Settings) -> tuple[str, str, str]:
    """Workflows and database activities; full-sync Stripe calls; webhook events."""
    return settings.task_queue, settings.stripe_task_queue, settings.stripe_events_task_queue


def build_workers(client: Client, settings: Settings) -> list[Worker]:
    """One worker per task queue; the plugin decides what each runs."""
    return [Worker(client, task_queue=queue) for queue in task_queues(settings)]


def budget_line(settings: Settings, budget: BudgetScope) -> str:
    """What the worker says at start about how Stripe calls are limited."""
    if budget.scope == "account":
        return (f"Stripe budget per account: sync {settings.stripe_requests_per_second}/s "
                f"(live keys {settings.stripe_live_requests_per_second}/s), webhooks "
                f"{settings.stripe_event_requests_per_second}/s, enforced by Temporal")
    return (f"[yellow]Stripe budget for the whole fleet[/yellow]: sync "
            f"{settings.stripe_fleet_requests_per_second}/s, webhooks "
            f"{settings.stripe_event_requests_per_second}/s shared by every account, because "
            f"{budget.reason}")


async def run_until(client: Client, settings: Settings, stop: asyncio.Event) -> None:
    """Run the workers until `stop`, or until one of them fails (a worker that cannot
    start, say), which then stops the others and is raised: a process whose workers
    are gone must end, not wait for a signal. Shutting down lets in-flight tasks finish
    briefly."""
    workers = build_workers(client, settings)
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*runs, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        closing = [asyncio.create_task(worker.shutdown()) for worker in workers]
        # The runs are what to wait for: a worker whose run failed before it started (in
        # a plugin, say) never completes its shutdown.
        ended = await asyncio.gather(*runs, return_exceptions=True)
        for task in closing:
            task.cancel()
        await asyncio.gather(*closing, return_exceptions=True)
    failures = [outcome for outcome in ended if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]


def settle_heap() -> None:
    """Move what start-up built (modules, the SDK, the engine) out of the garbage
    collector's reach, once, before the workers run.

    The collector's full passes otherwise walk that whole long-lived heap again and again
    while a derivation allocates the mirror's parsed rows, and most of the collector's
    time goes there. Nothing frozen is ever garbage: start-up's own garbage is collected
    first.
    """
    gc.collect()
    gc.freeze()


async def serve(settings: Settings) -> None:
    """Migrate, connect (starting the embedded dev server if nothing is configured), and
    run the workers until SIGINT or SIGTERM."""
    from revsync.cli.console import console
    from revsync.store import db, keystore
    from revsync.temporal.client import connect
    from revsync.temporal.dev_server import ensure_dev_server
    from revsync.temporal.plugin import RevenueSyncPlugin

    db.migrate(settings.resolved_database_url)
    keystore.check(settings)  # before any task: none should fail on an unreadable secret
    ensure_dev_server(settings.data_dir)
    plugin = RevenueSyncPlugin(settings)
    client = await connect(settings, plugin=plugin)
    budget = await plugin.resolve_budget(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print(f"workers polling {', '.join(map(repr, task_queues(settings)))}")
    console.print(budget_line(settings, budget))
    settle_heap()
    await run_until(client, settings, stop)


def main() -> None:
    """`worker.py` and `revsync worker`: serve, then leave without interpreter finalization.

    A database that is down or missing, or a secret key that cannot read the stored
    secrets, is one line and exit 1, not a traceback.
    """
    from revsync.cli.console import console
    from revsync.store.db import DatabaseUnavailable
    from revsync.store.keystore import KeyStoreError
    from revsync.temporal.process_exit import exit_now

    try:
        asyncio.run(serve(get_settings()))
    except (DatabaseUnavailable, KeyStoreError) as error:
        console.print(f"[red]error:[/red] {error}")
        exit_now(1)
    exit_now(0)
