"""`POST /webhooks/stripe/connect`: connected accounts' events, routed by their account.

One endpoint and one secret for the platform; the event's `account` picks the workspaces
connected to it through OAuth, and no other. Refused: a bad signature, a missing or
malformed account. Ignored (2xx, counted, nothing started): an account no workspace is
connected to.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal as D
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.events.types import EventResult
from revsync.settings import Settings
from revsync.setup import oauth
from revsync.setup.connection import register_connect_endpoint
from revsync.setup.disconnect import disconnect
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.web.app import create_app
from revsync.web.connect_webhooks import ConnectWebhookEndpoint
from revsync.web.running import running
from tests.conftest import plugin_client
from tests.helpers.e2e import KEY, import_emails, state
from tests.helpers.stripe_objects import charge, customer
from tests.helpers.webhooks import OTHER_SECRET, SECRET, signature

EMAILS = ["ann@x.io", "bob@x.io"]


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    platform = FakeStripe(api_keys=[KEY])
    for account in ("acct_A", "acct_B"):
        platform.add_connected_account(account, connected=False)
    with FakeStripeServer(platform, deliver_webhooks=True) as server:
        yield server


@pytest.fixture
def connect_settings(settings: Settings, fake: FakeStripeServer) -> Settings:
    return settings.model_copy(update={
        "stripe_connect_client_id": "ca_fake", "stripe_platform_key": SecretStr(KEY),
        "stripe_connect_base": fake.base_url, "public_url": "http://revsync.test",
        "stripe_connect_webhook_secret": SecretStr(f"{OTHER_SECRET}, {SECRET}")})


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, connect_settings: Settings) -> Client:
    """The workers read the connected accounts with the platform key of their settings."""
    return await plugin_client(temporal_env, connect_settings)


def connect_by_oauth(settings: Settings, fake: FakeStripeServer, account: str) -> Workspace:
    name = f"{account[5:].lower()}-{uuid.uuid4().hex[:6]}"
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, name)
    oauth.complete(settings, name, fake.state.oauth.issue_code(account))
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    import_emails(settings, workspace, EMAILS)
    return workspace


@pytest.fixture
async def http(connect_settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(connect_settings, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://revsync.test") as c:
        yield c


def event(account: str | None, charge_id: str = "ch_1", customer_id: str = "cus_1"
          ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex[:12]}", "object": "event", "type": "charge.succeeded",
        "created": 1_790_000_000, "data": {"object": {
            "id": charge_id, "object": "charge", "customer": customer_id}}}
    if account is not None:
        body["account"] = account
    return body


async def post(http: httpx.AsyncClient, body: dict[str, Any] | bytes, secret: str = SECRET
               ) -> httpx.Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return await http.post("/webhooks/stripe/connect", content=raw,
                           headers={"Stripe-Signature": signature(raw, secret)})


async def test_fake_stripe_delivers_a_connected_accounts_event_to_its_workspace_only(
    connect_settings: Settings, client: Client, workers: None, fake: FakeStripeServer,
) -> None:
    a = connect_by_oauth(connect_settings, fake, "acct_A")
    b = connect_by_oauth(connect_settings, fake, "acct_B")
    endpoint_id, secret = register_connect_endpoint(connect_settings, "https://hooks.example")
    [registered] = fake.state.webhook_endpoints()
    assert registered["id"] == endpoint_id and registered["application"] is not None
    assert registered["url"] == "https://hooks.example/webhooks/stripe/connect"
    served = connect_settings.model_copy(
        update={"stripe_connect_webhook_secret": SecretStr(secret)})
    async with running(create_app(served, client)) as base_url:
        # The deployment's real address is known only now, as with a tunnel.
        fake.state.webhooks.update(endpoint_id, {"url": f"{base_url}/webhooks/stripe/connect"})
        shop = fake.state.connect["acct_A"]
        charge(shop, customer(shop, "ann@x.io"), 4200)
        for _ in range(300):
            if state(connect_settings, a).get("ann@x.io", (None, D(0)))[1] == D("42.00"):
                break
            await asyncio.sleep(0.05)
    assert state(connect_settings, a)["ann@x.io"][1] == D("42.00")
    # Account B's workspace saw nothing: its subscribers carry no Stripe data.
    assert all(row[1] is None or row[1] == D(0) for row in state(connect_settings, b).values())
    assert fake.delivery is not None and fake.delivery.flush(5)
    assert all(attempt.ok for attempt in fake.delivery.attempts)


async def test_an_event_starts_only_the_workspaces_of_its_account(
    connect_settings: Settings, client: Client, workers: None, fake: FakeStripeServer,
    http: httpx.AsyncClient,
) -> None:
    a = connect_by_oauth(connect_settings, fake, "acct_A")
    b = connect_by_oauth(connect_settings, fake, "acct_B")
    shop = fake.state.connect["acct_B"]
    paid = charge(shop, bob := customer(shop, "bob@x.io"), 1500)
    response = await post(http, event("acct_B", paid, bob))
    assert response.status_code == 200, response.text
    [workflow_id] = response.json()["workflows"]
    assert b.name in workflow_id and a.name not in workflow_id
    result = await client.get_workflow_handle(workflow_id, result_type=EventResult).result()
    assert result.subscribers == 1
    assert state(connect_settings, b)["bob@x.io"][1] == D("15.00")
    assert state(connect_settings, a)["bob@x.io"][1] in (None, D(0))


@pytest.mark.parametrize(("body", "secret", "message"), [
    (event("acct_A"), "whsec_wrong", "signature"),
    (event(None), SECRET, "names its `account`"),
    (event("cus_not_an_account"), SECRET, "Stripe account id"),
    (b"{not json", SECRET, "JSON"),
])
async def test_bad_connect_deliveries_are_refused(
    http: httpx.AsyncClient, body: dict[str, Any] | bytes, secret: str, message: str,
) -> None:
    response = await post(http, body, secret)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


async def test_an_account_no_workspace_is_connected_to_is_acknowledged_and_counted(
    connect_settings: Settings, client: Client,
) -> None:
    app = create_app(connect_settings, client)
    endpoint: ConnectWebhookEndpoint = app.state.connect_webhooks
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://revsync.test") as http:
        gone = event("acct_Gone")
        response = await post(http, gone)
    assert response.status_code == 200
    assert response.json()["ignored"] == "no workspace is connected to that account"
    assert endpoint.unknown_accounts == {"acct_Gone": 1}
    with pytest.raises(RPCError):
        await client.get_workflow_handle(f"stripe-event/gone/{gone['id']}").describe()


async def test_unconfigured_connect_webhooks_answer_404(
    settings: Settings, client: Client
) -> None:
    transport = httpx.ASGITransport(app=create_app(settings, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://revsync.test") as http:
        response = await post(http, event("acct_A"))
    assert response.status_code == 404


async def test_a_disconnected_workspace_gets_no_more_events_of_its_account(
    connect_settings: Settings, client: Client, fake: FakeStripeServer,
    http: httpx.AsyncClient,
) -> None:
    a = connect_by_oauth(connect_settings, fake, "acct_A")
    done = await disconnect(connect_settings, client, a.name)
    assert done.deauthorized and not fake.state.connect.is_connected("acct_A")
    response = await post(http, event("acct_A"))
    assert response.json()["ignored"] == "no workspace is connected to that account"
    with db.session(connect_settings.resolved_database_url) as session:
        assert workspaces.by_name(session, a.name).stripe_account is None
