"""The Stripe setup step as JSON: /api/workspaces/{workspace}/stripe/... (admin token).

The same operations as the settings page and the CLI: connect, products to pick,
metadata suggestions, dry run, save options (then a sync or a re-derivation), manual
sync with progress, history, disconnect. Everything is scoped to the path's workspace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client
from temporalio.service import RPCError

from revsync.settings import Settings
from revsync.setup import connection, options, reading
from revsync.setup.client import dry_run, progress, start_next, start_sync_of
from revsync.setup.disconnect import disconnect
from revsync.setup.history import history
from revsync.setup.suggestions import suggest
from revsync.store import db, workspaces
from revsync.web.auth import admin_only, error
from revsync.web.bodies import BodyTooLarge, read_limited

BASE = "/api/workspaces/{workspace}/stripe"
MAX_BODY = 16 * 1024

Endpoint = Callable[[Request, str], Awaitable[Any]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def body(request: Request) -> dict[str, Any]:
    try:
        raw = await read_limited(request, MAX_BODY)
    except BodyTooLarge:
        raise ApiError(413, f"body larger than {MAX_BODY} bytes") from None
    try:
        value = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise ApiError(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "body must be a JSON object")
    return value


def routes(settings: Settings, client: Client, ui_base: str | None = None) -> list[Route]:
    url = settings.resolved_database_url

    def workspace_of(name: str) -> Any:
        with db.session(url) as session:
            try:
                return workspaces.by_name(session, name)
            except workspaces.WorkspaceError as problem:
                raise ApiError(404, str(problem)) from None

    def gateway_of(name: str) -> Any:
        workspace = workspace_of(name)
        if not workspace.stripe_key_encrypted:
            raise ApiError(409, f"workspace {name!r} is not connected to Stripe")
        return workspaces.gateway(settings, workspace)

    async def show(request: Request, name: str) -> Any:
        workspace = await anyio.to_thread.run_sync(workspace_of, name)
        return {
            "workspace": workspace.name,
            "connected": workspace.stripe_key_encrypted is not None,
            "products": workspace.products,
            "watch_products": workspace.watch_products,
            "sync_without_payment": workspace.sync_without_payment,
            "metadata_keys": workspace.metadata_keys,
            "mrr_statuses": workspace.mrr_statuses,
            "webhook_endpoint": workspace.webhook_endpoint_id,
            "webhook_secrets": len(workspace.webhook_secrets_encrypted),
        }

    async def connect(request: Request, name: str) -> Any:
        values = await body(request)
        key = values.get("api_key")
        if not isinstance(key, str):
            raise ApiError(422, "api_key is required")
        given = {"api_base": values["api_base"]} if "api_base" in values else {}
        try:
            opts = await anyio.to_thread.run_sync(
                lambda: connection.stored_options(settings, name, **given))
            await anyio.to_thread.run_sync(connection.connect, settings, name, key, opts)
        except connection.ConnectError as problem:
            raise ApiError(422, str(problem)) from None
        return {"connected": True, "mode": "live" if "_live_" in key else "test"}

    async def products(request: Request, name: str) -> Any:
        gateway = await anyio.to_thread.run_sync(gateway_of, name)
        listed, requests = await anyio.to_thread.run_sync(reading.products, gateway)
        return {"products": listed, "requests": requests}

    async def suggestions(request: Request, name: str) -> Any:
        gateway = await anyio.to_thread.run_sync(gateway_of, name)
        customers, subs, requests = await anyio.to_thread.run_sync(reading.sample, gateway)
        return {"suggestions": [dataclasses.asdict(s) for s in suggest(customers, subs)],
                "requests": requests}

    async def run_dry(request: Request, name: str) -> Any:
        values = await body(request)
        changes = _changes(values)
        workspace = await anyio.to_thread.run_sync(workspace_of, name)
        report = await dry_run(client, settings, workspace, changes.products or [],
                               bool(changes.sync_without_payment))
        return dataclasses.asdict(report)

    async def save(request: Request, name: str) -> Any:
        changes = _changes(await body(request))
        await anyio.to_thread.run_sync(gateway_of, name)  # 404 / 409 before anything else
        try:
            saved = await anyio.to_thread.run_sync(options.save_checked, settings, name, changes)
        except options.OptionsError as problem:
            raise ApiError(422, str(problem)) from None
        started = await start_next(client, settings, name, saved.next_step)
        return {"next_step": saved.next_step, "workflow_id": started,
                "removed_from_watch": saved.removed_from_watch}

    async def sync(request: Request, name: str) -> Any:
        workspace = await anyio.to_thread.run_sync(workspace_of, name)
        if request.method == "POST":
            if not workspace.stripe_key_encrypted:
                raise ApiError(409, f"workspace {name!r} is not connected to Stripe")
            return {"workflow_id": await start_sync_of(client, settings, workspace)}
        return await progress(client, workspace)

    async def runs(request: Request, name: str) -> Any:
        def read() -> list[dict[str, Any]]:
            with db.session(url) as session:
                return history(session, name, ui_base, client.namespace)
        await anyio.to_thread.run_sync(workspace_of, name)
        return {"runs": await anyio.to_thread.run_sync(read)}

    async def leave(request: Request, name: str) -> Any:
        await anyio.to_thread.run_sync(workspace_of, name)
        done = await disconnect(settings, client, name)
        return dataclasses.asdict(done)

    def route(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
        async def handle(request: Request) -> Response:
            try:
                return JSONResponse(await endpoint(request, request.path_params["workspace"]))
            except ApiError as problem:
                return error(problem.status, str(problem))
            except RPCError as problem:
                return error(503, f"Temporal is not reachable: {problem.status.name}")

        return Route(BASE + path, admin_only(settings, handle), methods=methods)

    return [
        route("", show, ["GET"]),
        route("/connect", connect, ["POST"]),
        route("/products", products, ["GET"]),
        route("/metadata-suggestions", suggestions, ["GET"]),
        route("/dry-run", run_dry, ["POST"]),
        route("/options", save, ["PUT"]),
        route("/sync", sync, ["GET", "POST"]),
        route("/history", runs, ["GET"]),
        route("/disconnect", leave, ["POST"]),
    ]


def _changes(values: dict[str, Any]) -> options.Changes:
    try:
        return options.parse(values)
    except options.OptionsError as problem:
        raise ApiError(422, str(problem)) from None
