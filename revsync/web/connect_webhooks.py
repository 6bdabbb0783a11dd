"""`POST /webhooks/stripe/connect`: the platform's one endpoint for connected accounts.

Stripe sends every connected account's events to the platform's Connect endpoint, signed
with that endpoint's secret and naming the account in `account`. The account decides the
workspace: only workspaces connected to it through OAuth are started, so an event of
account A never reaches a workspace of account B. An account no workspace is connected
to (one that disconnected, say) gets a 2xx, starts nothing and is counted; Stripe would
otherwise keep retrying and mark the endpoint failing.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Workspace
from revsync.web.bodies import read_limited
from revsync.web.errors import HttpError
from revsync.web.webhooks import (
    ShortCache,
    Signing,
    ignored_reason,
    signing_of,
    start,
    verified_event,
)

log = logging.getLogger(__name__)


class ConnectWebhookEndpoint:
    """The ASGI endpoint; counts events of accounts no workspace is connected to."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.unknown_accounts: Counter[str] = Counter()
        self._connected = ShortCache(self._load)

    def routes(self) -> list[Route]:
        return [Route("/webhooks/stripe/connect", self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        secrets = self._secrets()
        if not secrets:
            raise HttpError(404, "Connect webhooks are not configured")
        body = await read_limited(request, self.settings.webhook_max_body_bytes)
        event = verified_event(body, request, self.settings, secrets)
        if event.account is None:
            raise HttpError(400, "a Connect event names its `account`")
        ignored = ignored_reason(event)
        if ignored:
            return JSONResponse({"received": True, "ignored": ignored})
        connected = await self._connected.get(event.account)
        if not connected:
            self.unknown_accounts[event.account] += 1
            log.warning("Connect event %s of account %s: no workspace is connected to it",
                        event.id, event.account)
            return JSONResponse({"received": True,
                                 "ignored": "no workspace is connected to that account"})
        started: dict[str, Any] = {}
        for name, signing in connected:
            workflow_id, fresh = await start(self.client, self.settings, name, signing, event)
            started[workflow_id] = {"duplicate": not fresh}
        return JSONResponse({"received": True, "workflows": started})

    def _secrets(self) -> tuple[str, ...]:
        secret = self.settings.stripe_connect_webhook_secret
        if secret is None:
            return ()
        return tuple(s.strip() for s in secret.get_secret_value().split(",") if s.strip())

    def _load(self, account: str) -> list[tuple[str, Signing]]:
        """Workspaces connected to `account` through OAuth that still hold access."""
        with db.session(self.settings.resolved_database_url) as session:
            rows = session.exec(select(Workspace).where(
                Workspace.stripe_account == account,
                col(Workspace.stripe_key_encrypted).is_not(None),
            ).order_by(col(Workspace.id))).all()
            return [(w.name, signing_of(session, self.settings, w, ())) for w in rows]
