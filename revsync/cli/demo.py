"""The `demo` command: everything on embedded defaults against a seeded fake Stripe."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import typer
from temporalio.client import Client

from revsync.cli.console import console
from revsync.cli.demo_live import simulate
from revsync.cli.sync import run_sync
from revsync.settings import Settings
from revsync.setup import connection
from revsync.store import db, workspaces
from revsync.subscribers import csv_import
from revsync.temporal.client import connect
from revsync.temporal.dev_server import ensure_dev_server
from revsync.temporal.workers import run_until
from revsync.web.app import create_app
from revsync.web.running import running

if TYPE_CHECKING:
    from fake_stripe import FakeStripe

DEMO_WORKSPACE = "demo"
DEMO_KEY = "sk_test_demo_revsync"
DEMO_FX_RATES = {"eur": "1.08", "gbp": "1.27", "jpy": "0.0066"}  # fixed, for reproducibility
FAKE_STRIPE_MISSING = ("the demo needs the fake Stripe server: pip install ./fake-stripe "
                       "(from a revsync checkout)")


async def demo_command(
    settings: Settings, customers: int, seed: int, live_seconds: float | None = None
) -> int:
    """Dev server, fake Stripe, subscribers, workers in-process, one full sync.

    With `live_seconds` (0: until Ctrl-C), the webhook app then serves and the fake
    delivers signed events for simulated changes.
    """
    # The fake is a separate distribution for tests and this demo, so a deployment's
    # install does not carry it: imported here, and missing it is one line, not a traceback.
    try:
        from fake_stripe import FakeStripe, FakeStripeServer, generate_account, subscriber_emails
    except ModuleNotFoundError as missing:
        if missing.name != "fake_stripe":
            raise
        console.print(f"[red]error:[/red] {FAKE_STRIPE_MISSING}", soft_wrap=True)
        raise typer.Exit(1) from None
    ui = ensure_dev_server(settings.data_dir)
    console.print(f"seeding a fake Stripe account with {customers:,} customers (seed {seed})")
    account = generate_account(customers=customers, seed=seed)
    state = FakeStripe(api_keys=[DEMO_KEY])
    state.load(account)
    with FakeStripeServer(state, deliver_webhooks=live_seconds is not None) as fake:
        # The fake is this deployment's Stripe: the workers read every workspace there.
        settings = settings.model_copy(update={"stripe_api_base": fake.base_url})
        opts = connection.options(metadata_keys=["plan", "company"], fx_rates=DEMO_FX_RATES)
        connection.connect(settings, DEMO_WORKSPACE, DEMO_KEY, opts)
        emails = subscriber_emails(account, match_ratio=0.9, seed=seed)
        with db.session(settings.resolved_database_url) as session:
            workspace = workspaces.by_name(session, DEMO_WORKSPACE)
            assert workspace.id is not None
            imported = csv_import.import_rows(
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
