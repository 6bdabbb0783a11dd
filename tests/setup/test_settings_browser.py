"""The settings page in a real browser (Debian's chromium, headless, via Playwright):
sign in, connect, read the products, pick products, toggle, dry run, save, watch the sync
finish, pick metadata, change a setting, add a rule with the form, re-sync, and see the
page again with Stripe gone; and sign in through an embed link the platform minted, which
opens that workspace only, once, until sign-out. Against the app served by uvicorn, the
dev server's workers and the fake Stripe over HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from pydantic import SecretStr
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.web.app import create_app
from revsync.web.running import running
from tests.helpers.e2e import KEY, import_emails
from tests.helpers.stripe_objects import charge, customer, monthly

TOKEN = "browser-platform-key-0123456789"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    s = FakeStripe(api_keys=[KEY])
    s.put("product", {"id": "prod_gold", "name": "Gold"})
    s.put("product", {"id": "prod_basic", "name": "Basic"})
    gold = monthly(s, 4000)
    s.update("price", gold, {"product": "prod_gold"})
    for n, plan in enumerate(["gold", "gold", "basic"]):
        cus = customer(s, f"c{n}@x.io", metadata={"plan": plan, "company": f"Co {n}"})
        s.put("subscription", {"customer": cus, "status": "active",
                               "items": {"data": [{"price": gold}]}})
        charge(s, cus, 4000)
    with FakeStripeServer(s) as server:
        yield server


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=["--no-sandbox"])
        yield await browser.new_page()
        await browser.close()


async def test_setup_from_connect_to_resync(
    settings: Settings, client: Client, workers: None, fake: FakeStripeServer, page: Page,
    tmp_path: Path,
) -> None:
    admin = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    name = f"ui-{uuid.uuid4().hex[:8]}"
    with db.session(admin.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, name)
    import_emails(admin, workspace, ["c0@x.io", "c1@x.io", "c2@x.io"])
    async with running(create_app(admin, client)) as base:
        await page.goto(f"{base}/settings/{name}")
        await page.get_by_label("Platform key").fill(TOKEN)
        await page.get_by_role("button", name="Sign in").click()

        await page.get_by_label("Secret or restricted API key").fill(KEY)
        await page.get_by_role("button", name="Connect Stripe").click()
        await expect(page.get_by_text("Stripe connected (test mode).")).to_be_visible()
        await expect(page.locator("#no-products")).to_be_visible()  # nothing mirrored yet
        await page.get_by_role("button", name="Refresh products from Stripe").click()
        await expect(page.get_by_text("Products refreshed from Stripe (2 listed).")
                     ).to_be_visible()
        await _looks_like_the_product(page, tmp_path / "settings.png")

        await page.get_by_label("Gold").first.check()
        await page.get_by_label("Also sync customers who never paid").check()
        await page.get_by_role("button", name="Dry run").click()
        table = page.locator("#dry-run")
        await expect(table).to_contain_text("Would sync")
        # No paid invoice names a product, so with Gold selected the three paying
        # customers qualify through their Gold subscriptions (the toggle is on).
        await expect(table.locator("tr", has_text="Would match subscribers")).to_contain_text("3")
        await expect(page.get_by_label("Gold").first).to_be_checked()  # choices kept

        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_text("The sync has started.")).to_be_visible()
        await expect(page.locator("#history .status").first).to_have_text("completed",
                                                                        timeout=60_000)

        # The suggestions sample the customers the sync mirrored.
        await page.get_by_label("plan", exact=False).first.check()
        await page.get_by_label("company", exact=False).first.check()
        await expect(page.get_by_label("trialing", exact=True)).to_be_checked()  # the default
        await page.get_by_label("past due", exact=True).check()
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_text("being updated from the synced data")).to_be_visible()

        await _rules_from_the_page(page)

        await page.get_by_role("button", name="Sync Revenue").click()
        await expect(page.get_by_text("Sync started.")).to_be_visible()
        await expect(page.locator("#history .status")).to_have_text(
            ["completed", "completed"], timeout=60_000)

        fake.stop()  # a page view asks Stripe nothing: the same page without it
        shown = await page.reload()
        assert shown is not None and shown.status == 200
        await expect(page.get_by_label("Gold").first).to_be_checked()
        await expect(page.get_by_label("plan", exact=False).first).to_be_checked()
        await expect(page.locator("#rules")).to_contain_text("Win-back sequence")
    with db.session(admin.resolved_database_url) as session:
        saved = workspaces.by_name(session, name)
    assert (saved.products, saved.sync_without_payment, saved.metadata_keys) == (
        ["prod_gold"], True, ["company", "plan"])  # in the order the page lists them
    assert saved.mrr_statuses == ["active", "trialing", "past_due"]


async def test_sign_in_through_an_embed_link(settings: Settings, client: Client,
                                             page: Page) -> None:
    platform = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    name, other = f"embed-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    with db.session(platform.resolved_database_url) as session:
        for workspace in (name, other):
            workspaces.get_or_create(session, workspace)
    async with running(create_app(platform, client)) as base:
        async with httpx.AsyncClient(base_url=base) as backend:  # the platform's backend
            minted = await backend.post(f"/api/workspaces/{name}/embed-sessions",
                                        headers={"Authorization": f"Bearer {TOKEN}"},
                                        json={"user": "ann (platform user 42)"})
        link = base + minted.json()["url"]
        await page.goto(link)
        assert page.url == f"{base}/settings/{name}"  # the token left the address bar
        await expect(page.get_by_role("button", name="Connect Stripe")).to_be_visible()
        await expect(page.get_by_text("ann (platform user 42)")).to_be_visible()

        elsewhere = await page.goto(f"{base}/settings/{other}")
        assert elsewhere is not None and elsewhere.status == 404
        await page.goto(f"{base}/settings/{name}")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_text("Signed out.")).to_be_visible()
        await expect(page.get_by_label("Platform key")).to_be_visible()
        again = await page.goto(link)
        assert again is not None and again.status == 401  # single use
        await page.goto(f"{base}/settings/{name}")
        await expect(page.get_by_label("Platform key")).to_be_visible()



async def test_connect_with_stripe_comes_back_from_another_site(
    settings: Settings, client: Client, fake: FakeStripeServer, page: Page,
) -> None:
    """Stripe Connect in a real browser: the page on `localhost`, (fake) Stripe's
    authorize page on `127.0.0.1`, another site, as connect.stripe.com is; the session
    cookie survives the way back, and disconnecting revokes the grant."""
    fake.state.add_connected_account("acct_shop", connected=False)
    fake.state.oauth.next_account = "acct_shop"
    port = free_port()
    app_base = f"http://localhost:{port}"
    fake.state.oauth.redirect_uris = [f"{app_base}/stripe/oauth/callback"]
    assert urlsplit(fake.base_url).hostname == "127.0.0.1"
    platform = settings.model_copy(update={
        "platform_key": SecretStr(TOKEN), "stripe_connect_client_id": "ca_fake",
        "stripe_platform_key": SecretStr(KEY), "stripe_connect_base": fake.base_url,
        "public_url": app_base})
    name = f"cx-{uuid.uuid4().hex[:8]}"
    with db.session(platform.resolved_database_url) as session:
        workspaces.get_or_create(session, name)
    async with running(create_app(platform, client), "localhost", port) as base:
        assert base == app_base
        await page.goto(f"{base}/settings/{name}")
        await page.get_by_label("Platform key").fill(TOKEN)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name="Connect with Stripe").click()
        await expect(page.get_by_text("Stripe connected through Stripe Connect (acct_shop)")
                     ).to_be_visible()
        assert page.url == f"{base}/settings/{name}"
        await page.get_by_role("button", name="Disconnect Stripe").click()
        await expect(page.get_by_text("Stripe disconnected")).to_be_visible()
    assert not fake.state.connect.is_connected("acct_shop")
    with db.session(platform.resolved_database_url) as session:
        assert workspaces.by_name(session, name).stripe_account is None


def free_port() -> int:
    """A port nothing listens on now, for an app whose own address is in its settings."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

async def _looks_like_the_product(page: Page, screenshot: Path) -> None:
    """The page's own stylesheet applies (served by the app, no other origin), and a
    full-page screenshot of it renders at the page's width."""
    sheets = await page.evaluate("[...document.styleSheets].map(s => s.href)")
    assert len(sheets) == 1 and sheets[0].endswith("/static/settings.css")
    assert sheets[0].startswith(page.url.split("/settings/")[0])  # same origin
    styles = await page.evaluate("""() => {
        const css = (selector, property) =>
            getComputedStyle(document.querySelector(selector)).getPropertyValue(property);
        return [css("section", "border-top-left-radius"), css("header.top", "display"),
                css("button", "background-color"), css("body", "background-color")];
    }""")
    assert styles == ["10px", "flex", "rgb(79, 70, 229)", "rgb(245, 247, 251)"]
    await page.screenshot(path=screenshot, full_page=True)
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert page.viewport_size is not None and width == page.viewport_size["width"]
    assert height > 400  # the whole page: account, setup and history sections


async def _rules_from_the_page(page: Page) -> None:
    """The three default rules are listed; add a rule with the form (a bad one first:
    refused, what was typed kept), with the condition's live count; turn it off, delete
    it."""
    rules = page.locator("#rules")
    for default in ("Win-back sequence", "Thank-you email", "Team alert on a failed payment"):
        await expect(rules).to_contain_text(default)
    await expect(page.locator("#deliveries")).to_contain_text("No webhook sent yet.")
    form = page.locator("#rule-form")
    threshold = form.locator("[name=threshold]")
    await expect(threshold).to_be_hidden()  # the first trigger, tag_added, takes none
    await form.get_by_label("Rule name").fill("converted")
    await form.locator("#trigger-kind").select_option("mrr_crossed")
    await threshold.fill("lots")
    await form.locator("#action-kind").select_option("email")
    await form.locator("[name=template]").select_option("thank_you")
    await form.get_by_role("button", name="Add rule").click()
    await expect(page.get_by_text("threshold is a number >= 0, not 'lots'", exact=False)
                 ).to_be_visible()
    await expect(form.get_by_label("Rule name")).to_have_value("converted")
    await expect(threshold).to_have_value("lots")
    await expect(form.locator("#trigger-kind")).to_have_value("mrr_crossed")

    count = form.locator("#condition-count")
    await form.locator("#rule-condition").fill("ltv >")
    await expect(count).to_contain_text("position 6")  # where the expression stops
    await form.locator("#rule-condition").fill("ltv > 10")
    await expect(count).to_have_text("Matches 3 subscribers now.")  # each paid 40.00

    await form.locator("#trigger-kind").select_option("trial_converted")
    await expect(threshold).to_be_hidden()
    await form.get_by_role("button", name="Add rule").click()
    await expect(page.get_by_text("Rule 'converted' added.")).to_be_visible()
    row = rules.locator("tr", has_text="converted")
    await expect(row).to_contain_text("trial_converted")
    await expect(row).to_contain_text("ltv > 10")
    await page.get_by_role("button", name="Turn off converted").click()
    await expect(page.get_by_text("Rule 'converted' is off.")).to_be_visible()
    await page.get_by_role("button", name="Turn on converted").click()
    await expect(page.get_by_text("Rule 'converted' is on.")).to_be_visible()
    await page.get_by_role("button", name="Delete converted").click()
    await expect(rules.locator("tr", has_text="converted")).to_have_count(0)
    await expect(rules.locator("tr")).to_have_count(4)  # the header and the three defaults
