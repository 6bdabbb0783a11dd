"""`POST /webhooks/stripe/{workspace}`: verify, start the event's workflow, answer.

Fast acknowledgement: no Stripe call and no derivation happen here. Anything that
fails verification gets a 4xx with the reason and leaves no trace: nothing is written
and no workflow starts. Event types the sync ignores get a 2xx (Stripe marks an
endpoint unhealthy after failures), also without a workflow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio.to_thread
from sqlmodel import select
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from temporalio.client import Client
from temporalio.service import RPCError

from revsync.events.client import start_event_workflow
from revsync.events.parsing import EventError, parse_event
from revsync.gateway.signatures import SignatureError, verify
from revsync.settings import Settings
from revsync.store import db, keystore
from revsync.store.models import Workspace
from revsync.store.workspaces import valid_name
from revsync.web.bodies import BodyTooLarge, read_limited

SECRET_CACHE_SECONDS = 2.0  # a rotated secret is picked up within this long


@dataclass(frozen=True)
class Signing:
    workspace_id: int
    secrets: tuple[str, ...]


class WebhookEndpoint:
    """The ASGI endpoint; one instance per app, holding the Temporal client."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self._cache: dict[str, tuple[float, Signing]] = {}

    async def handle(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        if not valid_name(name):
            return _error(404, "unknown workspace")
        try:
            body = await read_limited(request, self.settings.webhook_max_body_bytes)
        except BodyTooLarge:
            return _error(413, f"body larger than {self.settings.webhook_max_body_bytes} bytes")
        except ClientDisconnect:
            return _error(400, "client disconnected")
        signing = await self._signing(name)
        if signing is None:
            return _error(404, "unknown workspace")
        try:
            verify(
                body,
                request.headers.get("stripe-signature"),
                signing.secrets,
                tolerance=self.settings.webhook_tolerance_seconds,
            )
            event = parse_event(body)
        except (SignatureError, EventError) as error:
            return _error(400, str(error))
        if not event.handled:
            return JSONResponse({"received": True, "ignored": f"type {event.type} not handled"})
        if not event.targets:
            return JSONResponse({"received": True, "ignored": "no object to refetch"})
        try:
            workflow_id, fresh = await start_event_workflow(
                self.client, self.settings, name, signing.workspace_id, event
            )
        except RPCError as error:
            # Stripe retries a 5xx: the event is not lost while Temporal is away.
            return _error(503, f"could not start the event workflow: {error.status.name}")
        except RuntimeError as error:  # a lazy client that cannot connect
            return _error(503, f"could not start the event workflow: {error}")
        return JSONResponse(
            {"received": True, "workflow_id": workflow_id, "duplicate": not fresh}
        )

    async def _signing(self, name: str) -> Signing | None:
        cached = self._cache.get(name)
        if cached is not None and time.monotonic() - cached[0] < SECRET_CACHE_SECONDS:
            return cached[1]
        signing = await anyio.to_thread.run_sync(self._load_signing, name)
        if signing is not None:
            self._cache[name] = (time.monotonic(), signing)
        return signing

    def _load_signing(self, name: str) -> Signing | None:
        with db.session(self.settings.resolved_database_url) as session:
            workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
        if workspace is None or workspace.id is None:
            return None
        secrets = tuple(
            keystore.decrypt(self.settings, token) for token in workspace.webhook_secrets_encrypted
        )
        return Signing(workspace_id=workspace.id, secrets=secrets)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)
