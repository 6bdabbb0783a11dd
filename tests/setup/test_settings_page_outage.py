"""The settings page of a connected workspace still renders when Stripe is unreachable or
refuses the stored key: the problem is said, the key form that fixes it is there, and the
saved choices stay. With no sync workflow known to Temporal, the last recorded run is
shown rather than "No sync yet."."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import SyncRun, utcnow
from tests.helpers.e2e import KEY, connect_workspace
from tests.helpers.pages import csrf_of, page_client

TOKEN = "outage-platform-key-0123456789"


@pytest.fixture
async def browser(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with page_client(settings, client, TOKEN) as http:
        yield http


async def signed_in_page(browser: httpx.AsyncClient, name: str) -> str:
    page = await browser.get(f"/settings/{name}")
    if "Platform key" in page.text:
        await browser.post(f"/settings/{name}/login",
                           data={"token": TOKEN, "csrf": csrf_of(page.text)})
        page = await browser.get(f"/settings/{name}")
    assert page.status_code == 200, page.text
    return page.text


def connected(settings: Settings, fake: FakeStripeServer) -> str:
    fake.state.put("product", {"id": "prod_gold", "name": "Gold plan"})
    name = f"outage-{uuid.uuid4().hex[:8]}"
    connect_workspace(settings, name, fake.base_url, products=["prod_gold"])
    return name


async def test_the_page_renders_with_stripe_unreachable(
    settings: Settings, browser: httpx.AsyncClient
) -> None:
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as fake:
        name = connected(settings, fake)
        assert "Gold plan" in await signed_in_page(browser, name)
    page = await signed_in_page(browser, name)  # the fake is gone
    assert "Stripe could not be reached" in page
    assert "Replace key" in page  # the key form
    assert 'value="prod_gold" checked' in page  # the saved choice is still shown


async def test_the_page_renders_with_the_key_revoked(
    settings: Settings, browser: httpx.AsyncClient
) -> None:
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as fake:
        name = connected(settings, fake)
        fake.state.api_keys.discard(KEY)
        page = await signed_in_page(browser, name)
    assert "Stripe refused the stored key" in page
    assert "Replace key" in page


async def test_the_last_recorded_run_shows_when_temporal_knows_no_sync(
    settings: Settings, browser: httpx.AsyncClient
) -> None:
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as fake:
        name = connected(settings, fake)
        page = await signed_in_page(browser, name)
        assert "No sync yet." in page
        with db.session(settings.resolved_database_url) as session:
            workspace = workspaces.by_name(session, name)
            assert workspace.id is not None
            run = SyncRun(workspace_id=workspace.id, workflow_id=f"stripe-sync/{name}",
                          run_key=f"gone/{name}", status="completed", finished_at=utcnow())
            session.add(run)
            session.commit()
            run_id = run.id
        page = await signed_in_page(browser, name)
    assert "No sync yet." not in page
    assert f"Last sync: run {run_id}, completed." in page
