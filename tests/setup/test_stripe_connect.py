"""Stripe Connect from the settings page: authorize on (fake) Stripe, exchange the code,
sync the connected account through the `Stripe-Account` header."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal as D
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.automations import rule_store
from revsync.segments.store import list_segments
from revsync.settings import Settings
from revsync.setup.disconnect import disconnect
from revsync.store import db, workspaces
from revsync.web.app import create_app
from tests.conftest import plugin_client
from tests.helpers.e2e import KEY, connect_workspace, import_emails, state, sync
from tests.helpers.pages import csrf_of
from tests.helpers.secrets import stored_secrets
from tests.helpers.stripe_objects import charge, customer

TOKEN = "connect-platform-key-0123456789"
APP = "http://app.test"  # the app's public URL: Stripe sends the browser back there


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    platform = FakeStripe(api_keys=[KEY])
    customer(platform, "ann@x.io")  # the platform's own customer: must not be synced
    shop = platform.add_connected_account("acct_shop", connected=False)
    charge(shop, customer(shop, "ann@x.io"), 7000)
    platform.oauth.next_account = "acct_shop"
    with FakeStripeServer(platform) as server:
        yield server


@pytest.fixture
def connect_settings(settings: Settings, fake: FakeStripeServer) -> Settings:
    return settings.model_copy(update={
        "platform_key": SecretStr(TOKEN), "stripe_connect_client_id": "ca_fake",
        "stripe_platform_key": SecretStr(KEY), "stripe_connect_base": fake.base_url,
        "public_url": APP})


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment, connect_settings: Settings) -> Client:
    """The workers read the connected account with the platform key of their settings."""
    return await plugin_client(temporal_env, connect_settings)


@pytest.fixture
async def page(connect_settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(connect_settings, client))
    async with httpx.AsyncClient(transport=transport, base_url=APP) as http:
        yield http


async def sign_in(http: httpx.AsyncClient, name: str) -> None:
    html = (await http.get(f"/settings/{name}")).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    await http.post(f"/settings/{name}/login", data={"token": TOKEN, "csrf": csrf.group(1)})


async def authorize(http: httpx.AsyncClient, name: str) -> httpx.Response:
    """Start on the page, let (fake) Stripe answer, come back to the callback."""
    start = await http.get(f"/settings/{name}/oauth")
    assert start.status_code == 303 and "/oauth/authorize?" in start.headers["location"]
    assert "client_id=ca_fake" in start.headers["location"]
    async with httpx.AsyncClient() as stripe_side:
        answer = await stripe_side.get(start.headers["location"])
    assert answer.status_code == 302
    back = httpx.URL(answer.headers["location"])
    return await http.get(f"{back.path}?{back.query.decode()}")


async def test_connect_then_sync_the_connected_account(
    connect_settings: Settings, client: Client, workers: None, page: httpx.AsyncClient,
) -> None:
    name = f"cx-{uuid.uuid4().hex[:6]}"
    with db.session(connect_settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, name)
    import_emails(connect_settings, workspace, ["ann@x.io"])
    await sign_in(page, name)
    assert "Connect with Stripe" in (await page.get(f"/settings/{name}")).text
    done = await authorize(page, name)
    assert done.status_code == 303 and done.headers["location"] == f"/settings/{name}"
    shown = (await page.get(f"/settings/{name}")).text
    assert "Stripe connected through Stripe Connect (acct_shop)" in shown
    with db.session(connect_settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    assert workspace.stripe_account == workspace.stripe_account_id == "acct_shop"
    # Connecting through Stripe Connect creates the default segments and rules too.
    assert workspace.id is not None
    with db.session(connect_settings.resolved_database_url) as session:
        assert [r.default_key for r in rule_store.list_rules(session, workspace.id)] == [
            "win_back", "thank_you", "team_alert"]
        assert len(list_segments(session, workspace.id)) == 3
    await sync(client, connect_settings, workspace)
    # The connected account's ann paid $70; the platform's ann paid nothing.
    assert state(connect_settings, workspace)["ann@x.io"][1] == D("70.00")


async def signed_in_to_new_workspace(settings: Settings, http: httpx.AsyncClient) -> str:
    """A new workspace's name, its settings page signed in to."""
    name = f"cx-{uuid.uuid4().hex[:6]}"
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, name)
    await sign_in(http, name)
    return name


async def test_a_declined_or_forged_authorization_stores_nothing(
    connect_settings: Settings, fake: FakeStripeServer, page: httpx.AsyncClient,
) -> None:
    name = await signed_in_to_new_workspace(connect_settings, page)
    fake.state.oauth.deny = True
    await authorize(page, name)
    assert "Stripe Connect was not approved" in (await page.get(f"/settings/{name}")).text
    forged = await page.get("/stripe/oauth/callback?code=ac_x&state=guess")
    assert forged.status_code == 400
    await page.get(f"/settings/{name}/oauth")  # started ...
    wrong_state = await page.get("/stripe/oauth/callback?code=ac_x&state=guess")
    assert wrong_state.status_code == 400 and "does not match" in wrong_state.text
    with db.session(connect_settings.resolved_database_url) as session:
        saved = workspaces.by_name(session, name)
    assert (saved.stripe_key_encrypted, saved.stripe_account) == (None, None)


async def test_the_platform_key_is_read_from_the_settings_never_stored(
    connect_settings: Settings, fake: FakeStripeServer, page: httpx.AsyncClient,
) -> None:
    name = await signed_in_to_new_workspace(connect_settings, page)
    assert (await authorize(page, name)).status_code == 303
    assert KEY not in stored_secrets(connect_settings)
    with db.session(connect_settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    assert workspace.stripe_key_encrypted is not None  # connected
    # Requests use the platform key the settings hold when they are made.
    rolled = connect_settings.model_copy(update={"stripe_platform_key": SecretStr("sk_new")})
    reader = workspaces.gateway(rolled, workspace)
    assert (reader.api_key, reader.stripe_account) == ("sk_new", "acct_shop")
    with pytest.raises(workspaces.WorkspaceError, match="REVSYNC_STRIPE_PLATFORM_KEY"):
        workspaces.gateway(connect_settings.model_copy(update={"stripe_platform_key": None}),
                           workspace)
    # Connected again with a key of its own, it is read with that key, as itself.
    fake.state.add_connected_account("acct_own", api_keys=["sk_test_own"])
    own = connect_workspace(connect_settings, name, key="sk_test_own")
    reader = workspaces.gateway(connect_settings, own)
    assert (reader.api_key, reader.stripe_account) == ("sk_test_own", None)


async def test_the_callback_address_is_the_deployments_whatever_the_host_header(
    connect_settings: Settings, fake: FakeStripeServer, page: httpx.AsyncClient,
) -> None:
    fake.state.oauth.redirect_uris = [f"{APP}/stripe/oauth/callback"]  # as registered
    name = await signed_in_to_new_workspace(connect_settings, page)
    start = await page.get(f"/settings/{name}/oauth", headers={"Host": "attacker.example"})
    assert start.status_code == 303
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == [f"{APP}/stripe/oauth/callback"]
    assert (await authorize(page, name)).status_code == 303  # Stripe accepts it


async def test_authorization_starts_only_for_an_existing_workspace_the_session_opens(
    connect_settings: Settings, client: Client, page: httpx.AsyncClient,
) -> None:
    name = await signed_in_to_new_workspace(connect_settings, page)
    nobody = await page.get("/settings/nobody-here/oauth")
    assert nobody.status_code == 404
    assert (await page.get("/stripe/oauth/callback?code=ac_x&state=x")).status_code == 400
    with db.session(connect_settings.resolved_database_url) as session, \
            pytest.raises(workspaces.WorkspaceError):
        workspaces.by_name(session, "nobody-here")  # never created
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_app(connect_settings, client)), base_url=APP) as signed_out:
        away = await signed_out.get(f"/settings/{name}/oauth")
    assert away.status_code == 303 and away.headers["location"] == f"/settings/{name}"


async def test_disconnecting_revokes_the_grant_and_forgets_the_account(
    connect_settings: Settings, fake: FakeStripeServer, page: httpx.AsyncClient,
) -> None:
    name = await signed_in_to_new_workspace(connect_settings, page)
    await authorize(page, name)
    assert fake.state.connect.is_connected("acct_shop")
    html = (await page.get(f"/settings/{name}")).text
    fake.state.log.clear()
    await page.post(f"/settings/{name}/disconnect", data={"csrf": csrf_of(html)})
    assert "Stripe disconnected" in (await page.get(f"/settings/{name}")).text
    assert not fake.state.connect.is_connected("acct_shop")  # revoked at Stripe
    with db.session(connect_settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    assert (workspace.stripe_key_encrypted, workspace.stripe_account) == (None, None)
    # Connected again with a key of its own: no request speaks for the old account.
    fake.state.add_connected_account("acct_own", api_keys=["sk_test_own"])
    fake.state.log.clear()
    own = connect_workspace(connect_settings, name, key="sk_test_own")
    assert workspaces.gateway(connect_settings, own).stripe_account is None
    assert {e.account for e in fake.state.log.entries()} == {"acct_own"}


async def test_a_grant_another_workspace_still_reads_through_is_kept(
    connect_settings: Settings, client: Client, fake: FakeStripeServer,
    page: httpx.AsyncClient,
) -> None:
    first = await signed_in_to_new_workspace(connect_settings, page)
    await authorize(page, first)
    second = await signed_in_to_new_workspace(connect_settings, page)
    await authorize(page, second)  # the same Stripe account approves again
    done = await disconnect(connect_settings, client, first)
    assert not done.deauthorized and fake.state.connect.is_connected("acct_shop")
    with db.session(connect_settings.resolved_database_url) as session:
        still = workspaces.by_name(session, second)
    workspaces.gateway(connect_settings, still).check_key()  # still reads the account
    assert (await disconnect(connect_settings, client, second)).deauthorized
    assert not fake.state.connect.is_connected("acct_shop")


async def test_a_disconnect_stripe_cannot_confirm_changes_nothing(
    connect_settings: Settings, client: Client, fake: FakeStripeServer,
    page: httpx.AsyncClient,
) -> None:
    name = await signed_in_to_new_workspace(connect_settings, page)
    await authorize(page, name)
    unreachable = connect_settings.model_copy(
        update={"stripe_connect_base": "http://127.0.0.1:9"})
    transport = httpx.ASGITransport(app=create_app(unreachable, client))
    async with httpx.AsyncClient(transport=transport, base_url=APP,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        answer = await api.post(f"/api/workspaces/{name}/stripe/disconnect")
    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == "could not reach Stripe; try again in a moment"
    with db.session(connect_settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
    assert workspace.stripe_account == "acct_shop" and workspace.stripe_key_encrypted
    assert fake.state.connect.is_connected("acct_shop")
