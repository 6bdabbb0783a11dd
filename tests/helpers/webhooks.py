"""Sign and deliver Stripe events to the app's webhook endpoint, in-process over ASGI."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import stripe
from temporalio.client import Client

from fake_stripe import FakeStripe
from revsync.events.types import EventResult
from revsync.settings import Settings
from revsync.web.app import create_app

SECRET = "whsec_revsync_tests_secret"
OTHER_SECRET = "whsec_revsync_tests_other"


def signature(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    return str(
        stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret, timestamp=int(time.time()) if timestamp is None else timestamp
        )
    )


class EventLog:
    """Every event the fake emits, as the JSON body Stripe would send."""

    def __init__(self, fake: FakeStripe) -> None:
        self.events: list[dict[str, Any]] = []
        fake.add_event_listener(lambda event: self.events.append(orjson.loads(orjson.dumps(event))))

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self.events[mark:]


@asynccontextmanager
async def webhook_client(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://revsync.test") as http:
        yield http


async def post_event(
    http: httpx.AsyncClient,
    workspace: str,
    event: dict[str, Any] | bytes,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body = event if isinstance(event, bytes) else orjson.dumps(event)
    return await http.post(
        f"/webhooks/stripe/{workspace}",
        content=body,
        headers={"Stripe-Signature": signature(body, secret, timestamp),
                 "Content-Type": "application/json"},
    )


async def deliver(
    http: httpx.AsyncClient, client: Client, workspace: str, events: list[dict[str, Any]]
) -> list[EventResult]:
    """Post each event, then wait for every workflow it started."""
    ids = []
    for event in events:
        response = await post_event(http, workspace, event)
        assert response.status_code == 200, response.text
        if "workflow_id" in response.json():
            ids.append(response.json()["workflow_id"])
    return [
        await client.get_workflow_handle(i, result_type=EventResult).result() for i in ids
    ]
