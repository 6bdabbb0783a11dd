"""The Stripe setup step as JSON: /api/workspaces/{workspace}/stripe/... (platform key or
a key of the workspace).

The same operations as the settings page and the CLI: connect, products to pick,
metadata suggestions, dry run, save options (then a sync or a re-derivation), manual
sync with progress, history, disconnect. Everything is scoped to the path's workspace.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.client import Client

from revsync.budget.rates import is_live_key
from revsync.gateway.stripe_api import StripeGateway
from revsync.settings import Settings
from revsync.setup import connection, options, reading
from revsync.setup.client import dry_run, progress, start_next, start_sync_of
from revsync.setup.disconnect import disconnect
from revsync.setup.history import history
from revsync.setup.suggestions import suggest
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.web.auth import Handler
from revsync.web.bodies import json_body, model_body
from revsync.web.errors import HttpError
from revsync.web.json_api import WorkspaceApi, workspace_named

BASE = "/api/workspaces/{workspace}/stripe"


class ConnectIn(BaseModel):
    """Only the key: where Stripe is, is the deployment's setting, and an `api_base`
    is refused as the unknown field it is."""
    model_config = ConfigDict(extra="forbid")
    api_key: str


class SetupApi(WorkspaceApi):
    base = BASE

    def __init__(self, settings: Settings, client: Client, ui_base: str | None) -> None:
        super().__init__(settings)
        self.client = client
        self.ui_base = ui_base  # the Temporal UI, for links in the history

    def table(self) -> list[tuple[str, Handler, list[str]]]:
        return [("", self.show, ["GET"]),
                ("/connect", self.connect, ["POST"]),
                ("/products", self.products, ["GET"]),
                ("/metadata-suggestions", self.suggestions, ["GET"]),
                ("/dry-run", self.dry_run, ["POST"]),
                ("/options", self.save, ["PUT"]),
                ("/sync", self.sync, ["GET", "POST"]),
                ("/history", self.history, ["GET"]),
                ("/disconnect", self.disconnect, ["POST"])]

    async def show(self, request: Request) -> Response:
        workspace = await self._workspace(request)
        return JSONResponse({
            "workspace": workspace.name,
            "connected": workspace.stripe_key_encrypted is not None,
            "products": workspace.products,
            "watch_products": workspace.watch_products,
            "sync_without_payment": workspace.sync_without_payment,
            "metadata_keys": workspace.metadata_keys,
            "mrr_statuses": workspace.mrr_statuses,
            "webhook_endpoint": workspace.webhook_endpoint_id,
            "webhook_secrets": len(workspace.webhook_secrets_encrypted),
        })

    async def connect(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        body = await model_body(request, ConnectIn)
        try:
            opts = await anyio.to_thread.run_sync(connection.stored_options, self.settings,
                                                  name)
            await anyio.to_thread.run_sync(connection.connect, self.settings, name,
                                           body.api_key, opts)
        except connection.ConnectError as problem:
            raise HttpError(422, str(problem)) from None
        return JSONResponse({"connected": True,
                             "mode": "live" if is_live_key(body.api_key) else "test"})

    async def products(self, request: Request) -> Response:
        gateway = await self._gateway(request)
        listed, requests = await anyio.to_thread.run_sync(reading.products, gateway)
        return JSONResponse({"products": listed, "requests": requests})

    async def suggestions(self, request: Request) -> Response:
        gateway = await self._gateway(request)
        customers, subs, requests = await anyio.to_thread.run_sync(reading.sample, gateway)
        return JSONResponse({
            "suggestions": [dataclasses.asdict(s) for s in suggest(customers, subs)],
            "requests": requests})

    async def dry_run(self, request: Request) -> Response:
        changes = _changes(await json_body(request))
        workspace = await self._workspace(request)
        _require_connected(workspace)  # else the workflow would fail, or wait for a worker
        report = await dry_run(self.client, self.settings, workspace, changes.products or [],
                               bool(changes.sync_without_payment))
        return JSONResponse(dataclasses.asdict(report))

    async def save(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        changes = _changes(await json_body(request))
        await self._gateway(request)  # 404 / 409 before anything else
        try:
            saved = await anyio.to_thread.run_sync(options.save_checked, self.settings, name,
                                                   changes)
        except options.OptionsError as problem:
            raise HttpError(422, str(problem)) from None
        started = await start_next(self.client, self.settings, name, saved.next_step)
        return JSONResponse({"next_step": saved.next_step, "workflow_id": started,
                             "removed_from_watch": saved.removed_from_watch})

    async def sync(self, request: Request) -> Response:
        workspace = await self._workspace(request)
        if request.method == "GET":
            return JSONResponse(await progress(self.client, workspace))
        _require_connected(workspace)
        return JSONResponse(
            {"workflow_id": await start_sync_of(self.client, self.settings, workspace)})

    async def history(self, request: Request) -> Response:
        workspace = await self._workspace(request)

        def read() -> list[dict[str, Any]]:
            with db.session(self.url) as session:
                return history(session, workspace.name, self.ui_base, self.client.namespace)
        return JSONResponse({"runs": await anyio.to_thread.run_sync(read)})

    async def disconnect(self, request: Request) -> Response:
        workspace = await self._workspace(request)
        try:
            done = await disconnect(self.settings, self.client, workspace.name)
        except connection.ConnectError as problem:  # nothing was disconnected
            status = 503 if isinstance(problem, connection.StripeUnreachable) else 409
            raise HttpError(status, str(problem)) from None
        return JSONResponse(dataclasses.asdict(done))

    async def _workspace(self, request: Request) -> Workspace:
        def read() -> Workspace:
            with db.session(self.url) as session:
                return workspace_named(session, request.path_params["workspace"])
        return await anyio.to_thread.run_sync(read)

    async def _gateway(self, request: Request) -> StripeGateway:
        workspace = await self._workspace(request)
        _require_connected(workspace)
        return await anyio.to_thread.run_sync(workspaces.gateway, self.settings, workspace)


def _require_connected(workspace: Workspace) -> None:
    if not workspace.stripe_key_encrypted:
        raise HttpError(409, f"workspace {workspace.name!r} is not connected to Stripe")


def _changes(values: Any) -> options.Changes:
    try:
        return options.parse(values)
    except options.OptionsError as problem:
        raise HttpError(422, str(problem)) from None
