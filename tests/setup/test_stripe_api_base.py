"""Where Stripe is, is the deployment's one setting (`REVSYNC_STRIPE_API_BASE`), never a
workspace's: no page field, API field or command option sends a Stripe key elsewhere, and
a Stripe that does not answer is said without the address or the OS's words."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import STRIPE_API_BASE, Settings
from revsync.store import db, workspaces
from tests.helpers.e2e import KEY
from tests.helpers.pages import csrf_of, page_client

TOKEN = "api-base-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNREACHABLE = "could not reach Stripe; try again in a moment"


@pytest.fixture
def elsewhere() -> Iterator[FakeStripeServer]:
    """A server a tenant would like the key sent to (it would accept it, too)."""
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as server:
        yield server


def new_workspace(settings: Settings) -> str:
    name = f"base-{uuid.uuid4().hex[:8]}"
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, name)
    return name


async def test_the_api_refuses_an_api_base_and_sends_the_key_nowhere(
    settings: Settings, client: Client, fake: FakeStripeServer, elsewhere: FakeStripeServer,
) -> None:
    async with page_client(settings, client, TOKEN) as api:
        refused = await api.post("/api/workspaces/shop/stripe/connect", headers=AUTH,
                                 json={"api_key": KEY, "api_base": elsewhere.base_url})
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == (
            "api_base: Extra inputs are not permitted")
        assert elsewhere.state.log.count() == 0 and fake.state.log.count() == 0
        connected = await api.post("/api/workspaces/shop/stripe/connect", headers=AUTH,
                                   json={"api_key": KEY})
    assert connected.json() == {"connected": True, "mode": "test"}
    assert elsewhere.state.log.count() == 0 and fake.state.log.count() > 0


async def test_the_page_has_no_api_base_and_ignores_one_posted(
    settings: Settings, client: Client, fake: FakeStripeServer, elsewhere: FakeStripeServer,
) -> None:
    name = new_workspace(settings)
    async with page_client(settings, client, TOKEN) as browser:
        html = (await browser.get(f"/settings/{name}")).text
        await browser.post(f"/settings/{name}/login",
                           data={"token": TOKEN, "csrf": csrf_of(html)})
        html = (await browser.get(f"/settings/{name}")).text
        assert 'name="api_key"' in html and "api_base" not in html
        await browser.post(f"/settings/{name}/connect", data={
            "csrf": csrf_of(html), "api_key": KEY, "api_base": elsewhere.base_url})
        shown = (await browser.get(f"/settings/{name}")).text
    assert "Stripe connected (test mode)." in shown
    assert elsewhere.state.log.count() == 0 and fake.state.log.count() > 0
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    assert workspaces.gateway(settings, workspace).api_base == fake.base_url


async def test_stripe_not_answering_is_said_without_where_or_why(
    settings: Settings, client: Client,
) -> None:
    closed = settings.model_copy(update={"stripe_api_base": "http://127.0.0.1:9"})
    async with page_client(closed, client, TOKEN) as api:
        answer = await api.post(f"/api/workspaces/{new_workspace(closed)}/stripe/connect",
                                headers=AUTH, json={"api_key": KEY})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == UNREACHABLE


def test_the_setting_is_stripes_unless_set_and_only_an_http_base() -> None:
    assert Settings().stripe_api_base == STRIPE_API_BASE == "https://api.stripe.com"
    assert Settings(stripe_api_base="http://127.0.0.1:12111/").stripe_api_base == (
        "http://127.0.0.1:12111")
    for bad in ("ftp://stripe.example", "api.stripe.com", "https://x.example/?k=1", ""):
        with pytest.raises(ValidationError, match="REVSYNC_STRIPE_API_BASE"):
            Settings(stripe_api_base=bad)


def test_stripe_connect_needs_the_public_url_to_return_to() -> None:
    with pytest.raises(ValidationError, match="REVSYNC_PUBLIC_URL"):
        Settings(stripe_connect_client_id="ca_x")
    assert Settings(stripe_connect_client_id="ca_x",
                    public_url="https://revsync.example/").public_url == (
        "https://revsync.example")
