"""`connect` registers the webhook endpoint; products to watch stay within synced products;
and Stripe's own signed deliveries, over real HTTP, update subscribers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal as D

import pytest
import stripe
from sqlmodel import select
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.events.parsing import HANDLED_TYPES
from revsync.settings import Settings
from revsync.setup.connection import ConnectError
from revsync.store import db, keystore
from revsync.store.models import StripeEvent, Workspace
from revsync.web.app import create_app
from revsync.web.running import running
from tests.helpers.e2e import KEY, connect_workspace, import_emails, state, sync
from tests.helpers.stripe_objects import charge, customer
from tests.helpers.webhooks import SECRET, EventLog, deliver, webhook_client


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    with FakeStripeServer(FakeStripe(api_keys=[KEY]), deliver_webhooks=True) as server:
        yield server


def stored_secrets(settings: Settings, workspace: Workspace) -> list[str]:
    with db.session(settings.resolved_database_url) as session:
        row = session.get(Workspace, workspace.id)
        assert row is not None
        return [keystore.decrypt(settings, token) for token in row.webhook_secrets_encrypted]


def test_connect_registers_one_endpoint_and_keeps_its_secret(
    settings: Settings, fake: FakeStripeServer
) -> None:
    workspace = connect_workspace(settings, "hooks",
                                  webhook_url="https://hooks.example.com/")
    [endpoint] = fake.state.webhook_endpoints()
    assert endpoint["url"] == "https://hooks.example.com/webhooks/stripe/hooks"
    assert sorted(endpoint["enabled_events"]) == sorted(HANDLED_TYPES)
    assert endpoint["api_version"] == stripe.api_version
    assert workspace.webhook_endpoint_id == endpoint["id"]
    assert stored_secrets(settings, workspace) == [endpoint["secret"]]
    assert endpoint["secret"] not in str(workspace.webhook_secrets_encrypted)

    # Connecting again points the same endpoint at the new URL; Stripe shows no new secret.
    connect_workspace(settings, "hooks", webhook_url="https://new.example.com")
    [moved] = fake.state.webhook_endpoints()
    assert (moved["id"], moved["url"]) == (
        endpoint["id"], "https://new.example.com/webhooks/stripe/hooks")
    assert stored_secrets(settings, workspace) == [endpoint["secret"]]

    # Deleted in the Stripe dashboard: the next connect registers a new one.
    fake.state.webhooks.delete(endpoint["id"])
    again = connect_workspace(settings, "hooks",
                              webhook_url="https://new.example.com")
    [fresh] = fake.state.webhook_endpoints()
    assert fresh["id"] != endpoint["id"] and again.webhook_endpoint_id == fresh["id"]
    assert stored_secrets(settings, workspace) == [fresh["secret"]]


def test_secrets_given_by_hand_allow_rotation(settings: Settings, fake: FakeStripeServer) -> None:
    workspace = connect_workspace(settings, "manual",
                                  webhook_secrets=["whsec_old", "whsec_new"])
    assert stored_secrets(settings, workspace) == ["whsec_old", "whsec_new"]
    with pytest.raises(ConnectError, match="whsec_"):
        connect_workspace(settings, "manual", webhook_secrets=["sk_test_x"])


def test_watched_products_are_synced_products(settings: Settings, fake: FakeStripeServer) -> None:
    for product in ("prod_A", "prod_B"):  # connect checks products against the account
        fake.state.put("product", {"id": product, "name": product})
    with pytest.raises(ConnectError, match="not synced: prod_C"):
        connect_workspace(settings, "w", products=["prod_A"],
                          watch_products=["prod_A", "prod_C"])
    workspace = connect_workspace(settings, "w", products=["prod_A", "prod_B"],
                                  watch_products=["prod_A", "prod_B"])
    assert workspace.watch_products == ["prod_A", "prod_B"]
    # Not given: the stored list is kept, less a product no longer synced.
    workspace = connect_workspace(settings, "w", products=["prod_B"])
    assert workspace.watch_products == ["prod_B"]


async def test_events_about_unwatched_products_change_nothing(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    prices = {}
    for product in ("prod_A", "prod_B"):
        s.put("product", {"id": product, "name": product})
        prices[product] = s.put("price", {"unit_amount": 1000, "currency": "usd",
                                          "product": product, "recurring": {
                                              "interval": "month", "interval_count": 1,
                                              "usage_type": "licensed"}})["id"]
    subs = {p: s.put("subscription", {"customer": ann, "status": "active", "items": {
        "data": [{"price": prices[p]}]}})["id"] for p in prices}
    for product in prices:  # a paid invoice for each product makes ann eligible
        s.put("invoice", {"customer": ann, "status": "paid", "amount_paid": 1000,
                          "lines": {"data": [{"amount": 1000, "pricing": {
                              "price_details": {"product": product, "price": prices[product]}}}]}})
    charge(s, ann, 2000)
    name = f"watch-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, name, webhook_secrets=[SECRET],
                                  products=["prod_A", "prod_B"], watch_products=["prod_A"])
    import_emails(settings, workspace, ["ann@example.com"])
    await sync(client, settings, workspace)
    # Both $10/month subscriptions count: MRR 20.00.
    assert state(settings, workspace)["ann@example.com"][0] == D("20.00")
    log = EventLog(s)
    async with webhook_client(settings, client) as http:
        s.cancel_subscription(subs["prod_B"])
        [ignored] = await deliver(http, client, name, log.since(0))
        assert ignored.outcome == "not_watched"
        assert state(settings, workspace)["ann@example.com"][0] == D("20.00")
        mark = log.mark()
        s.cancel_subscription(subs["prod_A"])
        [applied] = await deliver(http, client, name, log.since(mark))
        assert applied.outcome == "applied"
    # Re-derived from the whole mirror: both cancellations are in it now.
    assert state(settings, workspace)["ann@example.com"][:3] == (D("0.00"), D("20.00"),
                                                                ["churned"])


async def test_stripe_deliveries_over_http_update_subscribers(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None
) -> None:
    """The whole path: fake Stripe signs and POSTs to the app served by uvicorn."""
    s = fake.state
    ann = customer(s, "ann@example.com")
    paid = charge(s, ann, 4200)
    name = f"live-{uuid.uuid4().hex[:8]}"
    async with running(create_app(settings, client)) as base_url:
        workspace = connect_workspace(settings, name, webhook_url=base_url)
        import_emails(settings, workspace, ["ann@example.com"])
        await sync(client, settings, workspace)
        assert state(settings, workspace)["ann@example.com"][1] == D("42.00")
        s.refund(paid, 200)
        for _ in range(200):
            if state(settings, workspace)["ann@example.com"][1] == D("40.00"):
                break
            await asyncio.sleep(0.05)
        assert state(settings, workspace)["ann@example.com"][1] == D("40.00")
    assert fake.delivery is not None and fake.delivery.flush(5)
    with db.session(settings.resolved_database_url) as session:
        applied = session.exec(select(StripeEvent.type)).all()
    assert sorted(applied) == ["charge.refunded", "refund.created"]
