"""Command line for a deployment: import subscribers, connect Stripe, sync, inspect.

Run `python starter.py --help`; every command has `--help`. `demo` runs the whole
product on embedded defaults (Temporal dev server, fake Stripe, SQLite).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from revsync import db, subscribers, workspaces
from revsync.cli import automations as automations_cli
from revsync.cli import setup as setup_cli
from revsync.cli.common import WorkspaceOption, csv_list, fail, load_settings, pairs
from revsync.console import console
from revsync.process import exit_now

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
subscribers_app = typer.Typer(help="Manage the subscriber list.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
webhooks_app = typer.Typer(help="Receive Stripe webhooks.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
segments_app = typer.Typer(help="Saved segments: expressions over mrr, ltv, tags, email "
                                "engagement and carried metadata.", no_args_is_help=True)
app.add_typer(segments_app, name="segments")
email_events_app = typer.Typer(help="Email engagement (opens, clicks) from the host platform.",
                               no_args_is_help=True)
app.add_typer(email_events_app, name="email-events")
app.add_typer(automations_cli.app, name="automations")
app.command("outbox")(automations_cli.outbox)
subscribers_app.command("unsubscribe")(automations_cli.unsubscribe)
setup_cli.register(app)



@subscribers_app.command("import")
def import_subscribers(
    file: Annotated[Path, typer.Argument(help="CSV with an `email` column; other columns "
                                              "become attributes.")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Create or update subscribers from a CSV file."""
    settings = load_settings()
    try:
        rows, _ = subscribers.read_csv(file)
    except subscribers.ImportFileError as error:
        raise fail(str(error)) from None
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.get_or_create(session, workspace)
        assert ws.id is not None
        result = subscribers.import_rows(session, ws.id, rows)
    console.print(f"created {result.created}, updated {result.updated}, "
                  f"rejected {len(result.rejected)}")
    for line, reason in result.rejected[:20]:
        console.print(f"  line {line}: {reason}")


@app.command()
def connect(
    api_key_env: Annotated[str, typer.Option(help="Name of the environment variable holding "
                                                  "the Stripe secret or restricted key.")],
    api_base: Annotated[str | None, typer.Option(help="Stripe-compatible base URL.")] = None,
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
    from revsync import connection

    settings = load_settings()
    key = os.environ.get(api_key_env, "").strip()
    if not key:
        raise fail(f"environment variable {api_key_env} is empty or not set")
    secrets: list[str] = []
    if webhook_secret_env is not None:
        secrets = csv_list(os.environ.get(webhook_secret_env))
        if not secrets:
            raise fail(f"environment variable {webhook_secret_env} is empty or not set")
    try:
        options = connection.options(api_base=api_base, products=csv_list(products),
                                     sync_without_payment=sync_without_payment,
                                     metadata_keys=csv_list(metadata_keys),
                                     reporting_currency=reporting_currency,
                                     fx_rates=pairs(fx_rates),
                                     watch_products=None if watch_products is None
                                     else csv_list(watch_products),
                                     webhook_url=webhook_url, webhook_secrets=secrets)
        connection.connect(settings, workspace, key, options)
    except connection.ConnectError as error:
        raise fail(str(error)) from None
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
    from revsync import runner

    settings = load_settings()
    try:
        ws = runner.connected_workspace(settings, workspace)
    except workspaces.WorkspaceError as error:
        raise fail(str(error)) from None
    exit_now(asyncio.run(runner.sync_command(settings, ws, wait=not no_wait,
                                             fire_automations=fire_automations)))


@app.command()
def status(workspace: WorkspaceOption = "default",
           limit: Annotated[int, typer.Option(min=1, max=100)] = 5) -> None:
    """The last sync runs with their counts."""
    from revsync import reports

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            console.print(reports.status_table(session, workspace, limit))
        except workspaces.WorkspaceError as error:
            raise fail(str(error)) from None


@app.command()
def export(
    workspace: WorkspaceOption = "default",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File to write; default stdout.")] = None,
) -> None:
    """Each subscriber with email, mrr, ltv, Stripe-managed tags and carried metadata."""
    from revsync import export as exporter

    if fmt not in ("jsonl", "csv"):
        raise fail(f"--format must be jsonl or csv, not {fmt!r}")
    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            ws = workspaces.by_name(session, workspace)
        except workspaces.WorkspaceError as error:
            raise fail(str(error)) from None
        assert ws.id is not None
        if output is None:
            exporter.write(session, ws.id, sys.stdout, fmt)
        else:
            with output.open("w", newline="") as handle:
                count = exporter.write(session, ws.id, handle, fmt)
            console.print(f"wrote {count} subscribers to {output}")


@webhooks_app.command("serve")
def webhooks_serve(
    host: Annotated[str | None, typer.Option(help="Default: REVSYNC_HTTP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535,
                                             help="Default: REVSYNC_HTTP_PORT.")] = None,
) -> None:
    """Serve POST /webhooks/stripe/<workspace>: verify, start one workflow per event."""
    from revsync import live

    settings = load_settings()
    code = asyncio.run(live.serve_command(settings, host or settings.http_host,
                                          settings.http_port if port is None else port))
    exit_now(code)


@app.command("catch-up")
def catch_up(
    workspace: WorkspaceOption = "default",
    since: Annotated[str | None, typer.Option(help="Unix time or ISO 8601 (UTC if no zone). "
                                                   "Default: the start of the last completed "
                                                   "full sync.")] = None,
) -> None:
    """After webhook downtime, replay the missed events from Stripe (last 30 days)."""
    from revsync import catch_up_client, live, runner

    settings = load_settings()
    try:
        ws = runner.connected_workspace(settings, workspace)
        start = (catch_up_client.default_since(settings, ws) if since is None
                 else parse_time(since))
        catch_up_client.check_window(ws, start)
    except (workspaces.WorkspaceError, ValueError) as error:
        raise fail(str(error)) from None
    except catch_up_client.CatchUpError as error:
        raise fail(str(error), code=1) from None
    exit_now(asyncio.run(live.catch_up_command(settings, ws, start)))


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
    from revsync import runner

    settings = load_settings()
    exit_now(asyncio.run(runner.demo_command(settings, customers, seed,
                                             live_seconds if live else None)))


@email_events_app.command("import")
def import_email_events(
    file: Annotated[Path, typer.Argument(help="CSV with columns email,kind,occurred_at "
                                              "(kind open|click, ISO 8601 time).")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Import opens and clicks; all or nothing, unknown emails are skipped and counted."""
    from rich.markup import escape

    from revsync import email_events

    settings = load_settings()
    try:
        rows = email_events.read_csv(file)
    except email_events.EventsFileError as error:
        raise fail(escape(str(error))) from None
    with db.session(settings.resolved_database_url) as session:
        workspace_id = _workspace_id(session, workspace)
        result = email_events.import_rows(session, workspace_id, rows)
    if result.rejected:
        for line, reason in result.rejected[:20]:
            console.print(f"  line {line}: {escape(reason)}")
        raise fail(f"{len(result.rejected)} malformed row(s); nothing imported")
    console.print(f"imported {result.imported}, skipped {result.unknown_email} with unknown "
                  f"emails, {result.duplicates} duplicates")


def _workspace_id(session: Session, name: str) -> int:
    from rich.markup import escape

    try:
        ws = workspaces.by_name(session, name)
    except workspaces.WorkspaceError as error:
        raise fail(escape(str(error))) from None
    assert ws.id is not None
    return ws.id


def _segment_failure(error: Exception, expression: str | None = None) -> typer.Exit:
    """Exit 2 with the message; an expression error also shows where it is."""
    from rich.markup import escape

    from revsync.segments import SegmentError
    from revsync.segments.tables import pointed_error

    if isinstance(error, SegmentError) and expression is not None:
        return fail(escape(pointed_error(expression, error)))
    return fail(escape(str(error)))


@segments_app.command("list")
def segments_list(workspace: WorkspaceOption = "default") -> None:
    """The workspace's segments, by name."""
    from revsync.segments import store
    from revsync.segments.tables import segments_table

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        console.print(segments_table(store.list_segments(session,
                                                         _workspace_id(session, workspace))))


@segments_app.command("create")
def segments_create(
    name: Annotated[str, typer.Argument(help="Unique within the workspace.")],
    expression: Annotated[str, typer.Argument(help="e.g. 'mrr >= 50 AND tag = customer'")],
    workspace: WorkspaceOption = "default",
) -> None:
    """Save a new segment (the expression is checked first)."""
    from revsync.segments import SegmentError, SegmentStoreError, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            segment = store.create(session, _workspace_id(session, workspace), name, expression)
        except (SegmentError, SegmentStoreError) as error:
            raise _segment_failure(error, expression) from None
    console.print(f"created segment {segment.id}", markup=False)


@segments_app.command("edit")
def segments_edit(
    name: Annotated[str, typer.Argument(help="The segment to change.")],
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    expression: Annotated[str | None, typer.Option(help="New expression.")] = None,
    workspace: WorkspaceOption = "default",
) -> None:
    """Rename a segment and/or change its expression."""
    from revsync.segments import SegmentError, SegmentStoreError, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace_id = _workspace_id(session, workspace)
            segment = store.by_name(session, workspace_id, name)
            assert segment.id is not None
            store.edit(session, workspace_id, segment.id, name=new_name, expression=expression)
        except (SegmentError, SegmentStoreError) as error:
            raise _segment_failure(error, expression) from None
    console.print(f"updated segment {segment.id}", markup=False)


@segments_app.command("delete")
def segments_delete(name: str, workspace: WorkspaceOption = "default") -> None:
    """Delete a segment (a deleted default segment is not re-created)."""
    from revsync.segments import SegmentStoreError, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace_id = _workspace_id(session, workspace)
            segment = store.by_name(session, workspace_id, name)
            assert segment.id is not None
            store.delete(session, workspace_id, segment.id)
        except SegmentStoreError as error:
            raise _segment_failure(error) from None
    console.print(f"deleted segment {segment.id}", markup=False)


@segments_app.command("count")
def segments_count(name: str, workspace: WorkspaceOption = "default") -> None:
    """How many subscribers are in the segment now."""
    from revsync.segments import SegmentError, SegmentStoreError, store

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace_id = _workspace_id(session, workspace)
            segment = store.by_name(session, workspace_id, name)
            assert segment.id is not None
            console.print(store.count(session, workspace_id, segment.id))
        except (SegmentError, SegmentStoreError) as error:
            raise _segment_failure(error) from None


@segments_app.command("members")
def segments_members(
    name: str,
    after: Annotated[int, typer.Option(min=0, help="Show members with a larger id "
                                                   "(the last id of the previous page).")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    workspace: WorkspaceOption = "default",
) -> None:
    """One page of members, in subscriber-id order."""
    from revsync.segments import SegmentError, SegmentStoreError, store
    from revsync.segments.tables import members_table

    settings = load_settings()
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace_id = _workspace_id(session, workspace)
            segment = store.by_name(session, workspace_id, name)
            assert segment.id is not None
            page = store.members(session, workspace_id, segment.id, after=after, limit=limit)
        except (SegmentError, SegmentStoreError) as error:
            raise _segment_failure(error) from None
    console.print(members_table(page))
    if page.next_after is not None:
        console.print(f"next page: --after {page.next_after}")


@segments_app.command("check")
def segments_check(expression: str) -> None:
    """Check an expression without saving it; prints its canonical form."""
    from revsync.segments import SegmentError, parse, to_text

    try:
        tree = parse(expression)
    except SegmentError as error:
        raise _segment_failure(error, expression) from None
    console.print(f"ok: {to_text(tree)}", markup=False)


if __name__ == "__main__":
    app()
