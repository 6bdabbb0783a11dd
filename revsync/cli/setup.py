"""`starter.py products | suggest-metadata | dry-run | options | disconnect`: the setup
step from the command line, through the same `revsync.setup` modules as the page."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import stripe
import typer
from rich.table import Table

from revsync.cli.budget import budget
from revsync.cli.common import WorkspaceOption, csv_list, fail, load_settings
from revsync.cli.console import console
from revsync.gateway.stripe_api import StripeGateway, StripeUnavailable
from revsync.settings import Settings
from revsync.setup import connection, reading
from revsync.setup import options as setup_options
from revsync.setup.client import dry_run as run_dry
from revsync.setup.client import start_next
from revsync.setup.disconnect import disconnect as disconnect_workspace
from revsync.setup.suggestions import suggest
from revsync.store import db, keystore, workspaces
from revsync.store.models import Workspace
from revsync.temporal.client import connect
from revsync.temporal.dev_server import ensure_dev_server


def _connected(settings: Settings, name: str) -> tuple[Workspace, StripeGateway]:
    with db.session(settings.resolved_database_url) as session:
        try:
            keystore.check(settings)
            workspace = workspaces.by_name(session, name)
            return workspace, workspaces.gateway(settings, workspace)
        except workspaces.WorkspaceError as error:
            raise fail(str(error)) from None
        except keystore.KeyStoreError as error:  # the key file lost, or another's key
            raise fail(str(error), code=error.exit_code) from None


@contextmanager
def _stripe_answers() -> Iterator[None]:
    """Stripe's refusals and outages as one line (exit 1: the account or the network)."""
    try:
        yield
    except StripeUnavailable as error:
        raise fail(f"could not reach Stripe: {error}", code=1) from None
    except stripe.StripeError as error:
        message = getattr(error, "user_message", None) or type(error).__name__
        raise fail(f"Stripe refused: {message}", code=1) from None


def products(workspace: WorkspaceOption = "default") -> None:
    """The account's products, to pick `--products` from."""
    _, gateway = _connected(load_settings(), workspace)
    table = Table("id", "name", "active")
    with _stripe_answers():
        listed = reading.products(gateway)[0]
    for product in listed:
        table.add_row(product["id"], product["name"], "yes" if product["active"] else "no")
    console.print(table)


def suggest_metadata(workspace: WorkspaceOption = "default") -> None:
    """Metadata keys of the newest 100 customers and subscriptions (two requests)."""
    _, gateway = _connected(load_settings(), workspace)
    with _stripe_answers():
        customers, subscriptions, _ = reading.sample(gateway)
    table = Table("key", "on", "filled", "example")
    for s in suggest(customers, subscriptions):
        table.add_row(s.key, s.source, f"{s.filled} of {s.sampled}", s.example)
    console.print(table)


def dry_run(
    workspace: WorkspaceOption = "default",
    products: Annotated[str | None, typer.Option(help="prod_a,prod_b")] = None,
    sync_without_payment: Annotated[bool, typer.Option()] = False,
) -> None:
    """What a sync with these options would do; reads Stripe, writes nothing."""
    settings = load_settings()
    try:
        changes = setup_options.parse({"products": csv_list(products)})
    except setup_options.OptionsError as error:
        raise fail(str(error)) from None
    ws, _ = _connected(settings, workspace)

    async def run() -> dict[str, Any]:
        ensure_dev_server(settings.data_dir)
        client = await connect(settings)
        report = await run_dry(client, settings, ws, changes.products or [],
                               sync_without_payment)
        return dataclasses.asdict(report)

    for key, value in asyncio.run(run()).items():
        console.print(f"{key:22} {value}")


def set_options(
    workspace: WorkspaceOption = "default",
    products: Annotated[str | None, typer.Option(help="prod_a,prod_b ('' for none)")] = None,
    sync_without_payment: Annotated[bool | None, typer.Option(
        "--sync-without-payment/--paid-only")] = None,
    watch_products: Annotated[str | None, typer.Option()] = None,
    metadata_keys: Annotated[str | None, typer.Option()] = None,
    mrr_statuses: Annotated[str | None, typer.Option(
        help="Subscription statuses counted in MRR: active,trialing (the default), or e.g. "
        "active,past_due as Stripe Billing counts.")] = None,
) -> None:
    """Change options; then a re-derivation from the mirror, or a sync if data is missing."""
    settings = load_settings()
    values: dict[str, object] = {"sync_without_payment": sync_without_payment}
    for key, given in (("products", products), ("watch_products", watch_products),
                       ("metadata_keys", metadata_keys), ("mrr_statuses", mrr_statuses)):
        if given is not None:
            values[key] = csv_list(given)
    _connected(settings, workspace)
    try:
        changes = setup_options.parse(values)
        saved = setup_options.save_checked(settings, workspace, changes)
    except setup_options.OptionsError as error:
        raise fail(str(error)) from None
    for product in saved.removed_from_watch:
        console.print(f"{product} is no longer synced, so it is no longer watched")
    if saved.next_step == setup_options.NOTHING:
        console.print("nothing changed")
        return

    async def start() -> str | None:
        ensure_dev_server(settings.data_dir)
        return await start_next(await connect(settings), settings, workspace, saved.next_step)

    console.print(f"saved; {saved.next_step} started: {asyncio.run(start())}")


def disconnect(workspace: WorkspaceOption = "default") -> None:
    """Remove the key and the webhook endpoint, stop syncing; subscribers stay."""
    settings = load_settings()
    _connected(settings, workspace)

    async def run() -> Any:
        ensure_dev_server(settings.data_dir)
        return await disconnect_workspace(settings, await connect(settings), workspace)

    try:
        done = asyncio.run(run())
    except connection.ConnectError as error:  # a Connect grant not revoked: nothing changed
        raise fail(str(error), code=error.exit_code) from None
    revoked = ", Stripe Connect access revoked" if done.deauthorized else ""
    console.print(f"disconnected (webhook endpoint deleted: {done.endpoint_deleted}, "
                  f"running sync cancelled: {done.sync_cancelled}{revoked})")


def register(app: typer.Typer) -> None:
    app.command("products")(products)
    app.command("suggest-metadata")(suggest_metadata)
    app.command("dry-run")(dry_run)
    app.command("options")(set_options)
    app.command("disconnect")(disconnect)
    app.command("budget")(budget)
