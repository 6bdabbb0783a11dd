"""Losing eligibility end to end: an option saved through the JSON API (a product
deselected, "sync users without any payment" turned off) clears the subscribers it no
longer covers: Stripe-managed tags removed, `mrr` and `ltv` cleared, own tags kept.
Real workflows on the dev server, fake Stripe over HTTP, both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal as D

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.web.app import create_app
from tests.helpers.e2e import KEY, add_user_tag, connect_workspace, import_emails, state, sync
from tests.helpers.stripe_objects import charge, customer

TOKEN = "platform-key-for-tests-0123456789"
pytestmark = pytest.mark.usefixtures("workers")


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    """ann paid for Gold ($30/month, a paid Gold invoice); dan is on a Basic trial ($10/month)
    and never paid."""
    s = FakeStripe(api_keys=[KEY])
    prices = {}
    for product in ("prod_gold", "prod_basic"):
        s.put("product", {"id": product, "name": product})
        prices[product] = s.put("price", {
            "unit_amount": 3000 if product == "prod_gold" else 1000, "currency": "usd",
            "product": product,
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        })["id"]
    ann, dan = customer(s, "ann@x.io"), customer(s, "dan@x.io")
    s.put("subscription", {"customer": ann, "status": "active",
                           "items": {"data": [{"price": prices["prod_gold"]}]}})
    s.put("invoice", {"customer": ann, "status": "paid", "amount_paid": 3000, "lines": {
        "data": [{"amount": 3000, "pricing": {"price_details": {
            "product": "prod_gold", "price": prices["prod_gold"]}}}]}})
    charge(s, ann, 3000)
    s.put("subscription", {"customer": dan, "status": "trialing",
                           "items": {"data": [{"price": prices["prod_basic"]}]}})
    with FakeStripeServer(s) as server:
        yield server


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    admin = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    transport = httpx.ASGITransport(app=create_app(admin, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield http


async def save(http: httpx.AsyncClient, client: Client, ws: str, **changes: object) -> str:
    """Save options through the API and wait for the re-derivation it starts."""
    response = await http.put(f"/api/workspaces/{ws}/stripe/options", json=changes)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_step"] == "rederive"
    await client.get_workflow_handle(body["workflow_id"]).result()
    return str(body["next_step"])


async def test_deselecting_the_product_clears_its_customer(
    http: httpx.AsyncClient, client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    ws = f"lose-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, ws,
                                  products=["prod_gold", "prod_basic"])
    import_emails(settings, workspace, ["ann@x.io", "dan@x.io"])
    add_user_tag(settings, workspace, "ann@x.io", "vip")
    await sync(client, settings, workspace)
    assert state(settings, workspace)["ann@x.io"][:3] == (
        D("30.00"), D("30.00"), ["customer", "saas.monthly", "user:vip"])

    await save(http, client, ws, products=["prod_basic"])

    # ann paid only for Gold: no eligible customer left. Her own tag stays.
    assert state(settings, workspace)["ann@x.io"][:3] == (None, None, ["user:vip"])


async def test_turning_off_sync_without_payment_clears_the_trial(
    http: httpx.AsyncClient, client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    ws = f"lose-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, ws, sync_without_payment=True)
    import_emails(settings, workspace, ["ann@x.io", "dan@x.io"])
    await sync(client, settings, workspace)
    # dan's $10/month trial counts while the option is on; no payment, so LTV 0.00.
    assert state(settings, workspace)["dan@x.io"][:3] == (
        D("10.00"), D("0.00"), ["saas.monthly", "trial"])

    await save(http, client, ws, sync_without_payment=False)

    assert state(settings, workspace)["dan@x.io"][:3] == (None, None, [])
    assert state(settings, workspace)["ann@x.io"][:3] == (
        D("30.00"), D("30.00"), ["customer", "saas.monthly"])
