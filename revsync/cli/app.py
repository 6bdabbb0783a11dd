"""Command line for a deployment: import subscribers, connect Stripe, sync, inspect.

Run `revsync --help` (or `python starter.py --help` in a checkout); every command has
`--help`. `demo` runs the whole product on embedded defaults (Temporal dev server, fake
Stripe, SQLite).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from revsync.cli import api_keys as api_keys_cli
from revsync.cli import automations as automations_cli
from revsync.cli import explain as explain_cli
from revsync.cli import secrets as secrets_cli
from revsync.cli import segments as segments_cli
from revsync.cli import setup as setup_cli
from revsync.cli.common import (
    WorkspaceOption,
    csv_list,
    fail,
    load_settings,
    pairs,
    workspace_or_fail,
)
from revsync.cli.console import console
from revsync.feed import sink
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.subscribers import csv_import
from revsync.temporal.client import connect as connect_temporal
from revsync.temporal.process_exit import exit_now

SINK_NUDGE_SECONDS = 5.0

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
subscribers_app = typer.Typer(help="Manage the subscriber list.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
webhooks_app = typer.Typer(help="Receive Stripe webhooks.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(segments_cli.segments_app, name="segments")
app.add_typer(segments_cli.email_events_app, name="email-events")
app.add_typer(automations_cli.app, name="automations")
app.add_typer(api_keys_cli.app, name="api-keys")
app.add_typer(secrets_cli.app, name="secrets")
app.command("outbox")(automations_cli.outbox)
subscribers_app.command("unsubscribe")(automations_cli.unsubscribe)
setup_cli.register(app)
app.command("explain")(explain_cli.explain)



@subscribers_app.command("import")
def import_subscribers(
    file: Annotated[Path, typer.Argument(help="CSV with an `email` column; other columns "
                                              "become attributes.")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Create or update subscribers from a CSV file; each is derived from the mirror at
    once (no Stripe request), its first values firing no automation."""
    settings = load_settings()
    try:
        rows, _ = csv_import.read_csv(file)
    except csv_import.ImportFileError as error:
        raise fail(str(error)) from None
    with db.locked_session(settings.resolved_database_url) as session:  # it derives
        try:
            ws = workspaces.get_or_create(session, workspace)
        except workspaces.WorkspaceError as error:
            raise fail(escape(str(error))) from None
        assert ws.id is not None
        result = csv_import.import_rows(session, ws.id, rows)
    console.print(f"created {result.created}, updated {result.updated}, "
                  f"rejected {len(result.rejected)}, merged {len(result.merged)}")
    if settings.sink_activity is not None:
        asyncio.run(nudge_sink(settings, ws.id))
    for line, reason in result.rejected[:20]:
        console.print(f"  line {line}: {escape(reason)}")
    for line, into in result.merged[:20]:
        console.print(f"  line {line}: the same address as line {into}; merged into it")


async def nudge_sink(settings: Settings, workspace_id: int) -> None:
    """Tell the change sink about the import's entries; if Temporal cannot be reached
    in a few seconds, they go out with the workspace's next change instead."""
    try:
        client = await asyncio.wait_for(connect_temporal(settings), SINK_NUDGE_SECONDS)
        await asyncio.wait_for(sink.nudge(client, settings, workspace_id), SINK_NUDGE_SECONDS)
    except (TimeoutError, RuntimeError, OSError):
        console.print("the change sink gets these with the workspace's next change "
                      "(Temporal did not answer)")


@app.command()
def connect(
    api_key_env: Annotated[str, typer.Option(help="Name of the environment variable holding "
                                                  "the Stripe secret or restricted key.")],
    products: Annotated[str | None, typer.Option(help="Only sync customers who paid for "
                                                      "these products (prod_a,prod_b).")] = None,
    sync_without_payment: Annotated[bool, typer.Option(help="Also sync customers with a "
                                                            "trial or subscription who never "
                                                            "paid.")] = False,
    metadata_keys: Annotated[str | None, typer.Option(help="Customer metadata keys to copy "
                                                           "(plan,company).")] = None,
    reporting_currency: Annotated[str, typer.Option(help="Currency of mrr and ltv.")] = "usd",
    fx_rates: Annotated[str | None, typer.Option(help="Rates into the reporting currency per "
                                                      "major unit (eur=1.08,jpy=0.0066); "
                                                      "amounts in other currencies are left "
                                                      "out and counted.")] = None,
    watch_products: Annotated[str | None, typer.Option(help="Only webhook events about these "
                                                            "products update subscribers; a "
                                                            "subset of --products. Default: "
                                                            "the stored list.")] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Public base URL of `webhooks serve`: "
                                                         "registers a Stripe webhook endpoint "
                                                         "and stores its signing secret.")] = None,
    webhook_secret_env: Annotated[str | None, typer.Option(help="Environment variable holding "
                                                                "the signing secret(s) of an "
                                                                "endpoint you manage "
                                                                "(whsec_a,whsec_b while "
                                                                "rotating).")] = None,
    workspace: WorkspaceOption = "default",
) -> None:
    """Check a Stripe key with one cheap call, store it encrypted, record the options."""
    from revsync.setup import connection

    settings = load_settings(secrets=True)
    key = os.environ.get(api_key_env, "").strip()
    if not key:
        raise fail(f"environment variable {api_key_env} is empty or not set")
    secrets: list[str] = []
    if webhook_secret_env is not None:
        secrets = csv_list(os.environ.get(webhook_secret_env))
        if not secrets:
            raise fail(f"environment variable {webhook_secret_env} is empty or not set")
    try:
        options = connection.options(products=csv_list(products),
                                     sync_without_payment=sync_without_payment,
                                     metadata_keys=csv_list(metadata_keys),
                                     reporting_currency=reporting_currency,
                                     fx_rates=pairs(fx_rates),
                                     watch_products=None if watch_products is None
                                     else csv_list(watch_products),
                                     webhook_url=webhook_url, webhook_secrets=secrets)
        connection.connect(settings, workspace, key, options)
    except connection.ConnectError as error:
        raise fail(str(error), code=error.exit_code) from None
    console.print(f"workspace {workspace!r} connected to Stripe")


@app.command()
def sync(
    workspace: WorkspaceOption = "default",
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Start (or find) the sync and "
                                                            "exit.")] = False,
    fire_automations: Annotated[bool | None, typer.Option(
        "--fire-automations/--silent", help="Start automations for the changes this sync "
        "finds. Default: silent on a workspace's first sync, firing on later ones.")] = None,
) -> None:
    """Start the full sync, or attach to the one already running; show progress."""
    from revsync.cli import sync as sync_cli

    settings = load_settings()
    try:
        ws = sync_cli.connected_workspace(settings, workspace)
    except workspaces.WorkspaceError as error:
        raise fail(str(error)) from None
    exit_now(asyncio.run(sync_cli.sync_command(settings, ws, wait=not no_wait,
                                             fire_automations=fire_automations)))


@app.command()
def status(workspace: WorkspaceOption = "default",
           limit: Annotated[int, typer.Option(min=1, max=100)] = 5) -> None:
    """The last sync runs with their counts."""
    from revsync.cli.status import status_table

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            console.print(status_table(session, workspace, limit))
        except workspaces.WorkspaceError as error:
            raise fail(str(error)) from None


@app.command()
def export(
    workspace: WorkspaceOption = "default",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File to write; default stdout.")] = None,
) -> None:
    """Each subscriber with email, mrr, ltv, Stripe-managed tags and carried metadata."""
    from revsync.subscribers import export as exporter

    if fmt not in ("jsonl", "csv"):
        raise fail(f"--format must be jsonl or csv, not {fmt!r}")
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        ws = workspace_or_fail(session, workspace)
        assert ws.id is not None
        if output is None:
            exporter.write(session, ws.id, sys.stdout, fmt)
        else:
            try:
                handle = output.open("w", newline="")
            except OSError as error:
                raise fail(f"cannot write {output}: {error.strerror or error}") from None
            with handle:
                count = exporter.write(session, ws.id, handle, fmt)
            console.print(f"wrote {count} subscribers to {output}")


@webhooks_app.command("serve")
def webhooks_serve(
    host: Annotated[str | None, typer.Option(help="Default: REVSYNC_HTTP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535,
                                             help="Default: REVSYNC_HTTP_PORT.")] = None,
) -> None:
    """Serve POST /webhooks/stripe/<workspace>: verify, start one workflow per event."""
    from revsync.cli.webhooks import serve_command

    settings = load_settings(secrets=True)
    code = asyncio.run(serve_command(settings, host or settings.http_host,
                                          settings.http_port if port is None else port))
    exit_now(code)


@webhooks_app.command("register-connect")
def webhooks_register_connect(
    url: Annotated[str, typer.Option(help="Public base URL of `webhooks serve`, "
                                          "https://... .")],
) -> None:
    """Register the platform's one Connect endpoint (once), for every OAuth workspace."""
    from revsync.setup.connection import ConnectError, register_connect_endpoint

    if not url.startswith(("https://", "http://")):
        raise fail(f"--url must be an http(s) URL, not {url!r}")
    try:
        endpoint_id, secret = register_connect_endpoint(load_settings(), url)
    except ConnectError as error:
        raise fail(str(error), code=1) from None
    console.print(f"registered {endpoint_id} for {url.rstrip('/')}/webhooks/stripe/connect")
    console.print("Stripe shows its signing secret only now; set it on the webhook servers:")
    console.print(f"REVSYNC_STRIPE_CONNECT_WEBHOOK_SECRET={secret}", markup=False)


@app.command("catch-up")
def catch_up(
    workspace: WorkspaceOption = "default",
    since: Annotated[str | None, typer.Option(help="Unix time or ISO 8601 (UTC if no zone). "
                                                   "Default: the start of the last completed "
                                                   "full sync.")] = None,
) -> None:
    """After webhook downtime, replay the missed events from Stripe (last 30 days)."""
    from revsync.cli import sync as sync_cli
    from revsync.cli.catch_up import catch_up_command
    from revsync.events import catch_up_client

    settings = load_settings()
    try:
        ws = sync_cli.connected_workspace(settings, workspace)
        start = (catch_up_client.default_since(settings, ws) if since is None
                 else parse_time(since))
        catch_up_client.check_window(ws, start)
    except (workspaces.WorkspaceError, ValueError) as error:
        raise fail(str(error)) from None
    except catch_up_client.CatchUpError as error:
        raise fail(str(error), code=1) from None
    exit_now(asyncio.run(catch_up_command(settings, ws, start)))


def parse_time(value: str) -> int:
    """Unix seconds, or an ISO 8601 date/time (naive means UTC)."""
    if value.strip().isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since must be unix seconds or ISO 8601, not {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, max=200_000)] = 3000,
    seed: Annotated[int, typer.Option()] = 7,
    live: Annotated[bool, typer.Option(help="After the sync, serve webhooks and simulate "
                                            "live Stripe changes.")] = False,
    live_seconds: Annotated[float, typer.Option(min=0, help="How long to simulate; 0 runs "
                                                            "until Ctrl-C.")] = 0,
) -> None:
    """Run everything on embedded defaults against a seeded fake Stripe account."""
    from revsync.cli.demo import demo_command

    settings = load_settings(secrets=True)
    exit_now(asyncio.run(demo_command(settings, customers, seed,
                                             live_seconds if live else None)))


@app.command()
def worker() -> None:
    """Run the workers (workflows and database work, Stripe reads, webhook events)."""
    from revsync.temporal.workers import main as run_workers

    run_workers()


def main() -> None:
    """Entry point of `revsync` and `starter.py`."""
    app()
