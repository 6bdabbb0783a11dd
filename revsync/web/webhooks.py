"""`POST /webhooks/stripe/{workspace}`: verify, start the event's workflow, answer.

Fast acknowledgement: no Stripe call and no derivation happen here. Anything that
fails verification gets a 4xx with the reason and leaves no trace: nothing is written
and no workflow starts. Event types the sync ignores get a 2xx (Stripe marks an
endpoint unhealthy after failures), also without a workflow.

The route names the workspace, and anyone may call it, so its answers must not tell
which names are workspaces: a name that is none (or cannot be one), and a workspace with
no signing secret, are answered as a workspace whose secret the caller does not have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from secrets import token_hex
from typing import Generic, TypeVar

import anyio.to_thread
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.service import RPCError

from revsync.budget.lookup import budget_of, priority
from revsync.events.client import start_event_workflow
from revsync.events.parsing import EventError, ParsedEvent, parse_event
from revsync.gateway.signatures import NO_MATCH, SignatureError, verify
from revsync.settings import Settings
from revsync.store import db, keystore
from revsync.store.models import Workspace
from revsync.store.workspaces import valid_name
from revsync.web.bodies import read_limited
from revsync.web.errors import HttpError

SECRET_CACHE_SECONDS = 2.0  # a rotated secret is picked up within this long
K = TypeVar("K")
V = TypeVar("V")


class ShortCache(Generic[K, V]):
    """What a webhook needs from the database, kept SECRET_CACHE_SECONDS; a load that
    finds nothing (None) is not kept."""

    def __init__(self, load: Callable[[K], V | None]) -> None:
        self._load = load
        self._kept: dict[K, tuple[float, V]] = {}

    async def get(self, key: K) -> V | None:
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < SECRET_CACHE_SECONDS:
            return kept[1]
        value = await anyio.to_thread.run_sync(self._load, key)
        if value is not None:
            self._kept[key] = (time.monotonic(), value)
        return value


@dataclass(frozen=True)
class Signing:
    workspace_id: int
    secrets: tuple[str, ...]
    priority: Priority  # the account's budget key and weight


class WebhookEndpoint:
    """The ASGI endpoint; one instance per app, holding the Temporal client."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self._signings = ShortCache(self._load_signing)

    def routes(self) -> list[Route]:
        return [Route("/webhooks/stripe/{workspace}", self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        name = request.path_params["workspace"]
        body = await read_limited(request, self.settings.webhook_max_body_bytes)
        signing = await self._signings.get(name) if valid_name(name) else None
        if signing is None or not signing.secrets:
            # Checked against a secret nobody has, so every header gets the answer a
            # workspace gives a caller without its secret.
            verified_event(body, request, self.settings, (token_hex(32),))
            raise HttpError(400, NO_MATCH)
        event = verified_event(body, request, self.settings, signing.secrets)
        ignored = ignored_reason(event)
        if ignored:
            return JSONResponse({"received": True, "ignored": ignored})
        workflow_id, fresh = await start(self.client, self.settings, name, signing, event)
        return JSONResponse(
            {"received": True, "workflow_id": workflow_id, "duplicate": not fresh}
        )

    def _load_signing(self, name: str) -> Signing | None:
        with db.session(self.settings.resolved_database_url) as session:
            workspace = session.exec(select(Workspace).where(Workspace.name == name)).first()
            if workspace is None or workspace.id is None:
                return None
            secrets = tuple(keystore.decrypt(self.settings, token)
                            for token in workspace.webhook_secrets_encrypted)
            return signing_of(session, self.settings, workspace, secrets)


def verified_event(body: bytes, request: Request, settings: Settings,
                   secrets: tuple[str, ...]) -> ParsedEvent:
    """The event, once its signature matches one of `secrets`; else a 400."""
    try:
        verify(body, request.headers.get("stripe-signature"), secrets,
               tolerance=settings.webhook_tolerance_seconds)
        return parse_event(body)
    except (SignatureError, EventError) as error:
        raise HttpError(400, str(error)) from None


def ignored_reason(event: ParsedEvent) -> str | None:
    """Why a verified event starts nothing (answered 2xx so Stripe keeps the endpoint)."""
    if not event.handled:
        return f"type {event.type} not handled"
    if not event.targets:
        return "no object to refetch"
    return None


async def start(client: Client, settings: Settings, name: str, signing: Signing,
                event: ParsedEvent) -> tuple[str, bool]:
    """Start the event's workflow for one workspace; Temporal away is a 503 Stripe retries."""
    try:
        return await start_event_workflow(client, settings, name, signing.workspace_id, event,
                                          signing.priority)
    except RPCError as error:
        raise HttpError(503, f"could not start the event workflow: {error.status.name}") from None
    except RuntimeError as error:  # a lazy client that cannot connect
        raise HttpError(503, f"could not start the event workflow: {error}") from None


def signing_of(session: Session, settings: Settings, workspace: Workspace,
               secrets: tuple[str, ...]) -> Signing:
    assert workspace.id is not None
    budget = budget_of(session, settings, workspace)
    return Signing(workspace_id=workspace.id, secrets=secrets, priority=priority(budget))
