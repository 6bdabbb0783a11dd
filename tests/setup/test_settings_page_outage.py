"""The settings page of a connected workspace asks Stripe nothing, so it renders the same
when Stripe is unreachable: the products and metadata suggestions come from the mirror.
The refresh button reads the products again through the Stripe queue, and says when
Stripe refused the stored key. With no sync workflow known to Temporal, the last
recorded run is shown rather than "No sync yet."."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from fake_stripe import FakeStripeServer
from revsync.settings import Settings
from revsync.store import db, mirror, workspaces
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
    connect_workspace(settings, name, products=["prod_gold"])
    return name


async def test_a_page_view_asks_stripe_nothing(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer
) -> None:
    """The picker lists the mirrored products and the suggestions sample the mirrored
    customers; with the fake stopped the page is the same."""
    name = connected(settings, fake)
    fake.state.log.clear()
    page = await signed_in_page(browser, name)
    assert fake.state.log.count() == 0
    assert 'value="prod_gold" checked' in page  # chosen, not mirrored yet: by its id
    mirror_some(settings, name)
    assert "Gold plan" in await signed_in_page(browser, name)
    assert fake.state.log.count() == 0
    fake.stop()
    page = await signed_in_page(browser, name)  # the fake is gone
    assert "Gold plan" in page and 'value="prod_gold" checked' in page
    assert "Silver plan" in page
    assert 'value="plan"' in page and "filled in 1 of 1 recent" in page
    assert "Stripe could not be reached" not in page


def mirror_some(settings: Settings, name: str) -> None:
    """What a full sync would have mirrored: two products and a customer with metadata."""
    with db.session(settings.resolved_database_url) as session:
        workspace_id = workspaces.by_name(session, name).id
        assert workspace_id is not None
        mirror.upsert(session, "products", workspace_id,
                      [{"id": "prod_gold", "name": "Gold plan", "active": True},
                       {"id": "prod_silver", "name": "Silver plan", "active": False}], 1.0)
        mirror.upsert(session, "customers", workspace_id,
                      [{"id": "cus_1", "email": "a@x.io", "metadata": {"plan": "gold"}}], 1.0)
        session.commit()


async def test_the_refresh_button_reads_the_products_into_the_mirror(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer, workers: None
) -> None:
    name = connected(settings, fake)
    fake.state.put("product", {"id": "prod_basic", "name": "Basic plan"})
    page = await signed_in_page(browser, name)
    assert "Basic plan" not in page
    fake.state.log.clear()
    # Ticked but not saved: the refresh keeps it ticked.
    await browser.post(f"/settings/{name}/products-refresh",
                       data={"csrf": csrf_of(page), "products": ["prod_gold"],
                             "mrr_statuses": ["active"]})
    assert fake.state.log.counts() == {"GET /v1/products": 1}
    page = await signed_in_page(browser, name)
    assert "Products refreshed from Stripe (2 listed)." in page
    assert fake.state.log.count() == 1
    fake.stop()
    page = await signed_in_page(browser, name)  # the fake is gone: read from the mirror
    assert "Basic plan" in page and "Gold plan" in page
    assert 'value="prod_gold" checked' in page


async def test_a_refresh_with_the_key_revoked_says_so(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer, workers: None
) -> None:
    name = connected(settings, fake)
    fake.state.api_keys.discard(KEY)
    page = await signed_in_page(browser, name)
    assert "Replace key" in page  # the page itself renders as ever
    await browser.post(f"/settings/{name}/products-refresh", data={"csrf": csrf_of(page)})
    page = await signed_in_page(browser, name)
    fake.stop()
    assert "Stripe refused the stored key" in page
    assert "Replace key" in page


async def test_the_last_recorded_run_shows_when_temporal_knows_no_sync(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer
) -> None:
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
    fake.stop()
    assert "No sync yet." not in page
    assert f"Last sync: run {run_id}, completed." in page
