"""Sign-in throttling over HTTP: after the allowed failures from one address (wrong
platform keys, bad embed links, counted together), every sign-in from it answers 429
with Retry-After until the window passes; successes are unaffected, and other
addresses are not held up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from revsync.credentials import embed
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import utcnow
from revsync.web import throttle
from revsync.web.app import create_app
from tests.helpers.pages import csrf_of

KEY = "throttled-platform-key-0123456789"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(throttle, "monotonic", ticking)
    return ticking


@pytest.fixture
def app(settings: Settings, client: Client) -> object:
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, "shop")
    return create_app(settings.model_copy(update={
        "platform_key": SecretStr(KEY), "sign_in_max_failures": 3,
        "sign_in_window_seconds": 600}), client)


def browser_at(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://revsync.test")


@pytest.fixture
async def browser(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_at(app, "203.0.113.7") as http:
        yield http


async def sign_in(http: httpx.AsyncClient, token: str) -> httpx.Response:
    csrf = csrf_of((await http.get("/settings/shop")).text)
    return await http.post("/settings/shop/login", data={"token": token, "csrf": csrf})


def link(settings: Settings) -> str:
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, "shop")
        assert workspace.id is not None
        return embed.create_link(session, workspace.id, "ann", 5, utcnow())[0]


async def test_failures_lock_the_address_out_until_the_window_passes(
        app: object, browser: httpx.AsyncClient, clock: Clock, settings: Settings) -> None:
    for _ in range(5):  # successes never count
        assert (await sign_in(browser, KEY)).status_code == 303
        await browser.post("/settings/shop/logout",
                           data={"csrf": csrf_of((await browser.get("/settings/shop")).text)})
    assert (await sign_in(browser, "wrong")).status_code == 303
    assert (await browser.get("/settings/shop/embed?token=nope")).status_code == 401
    clock.now += 100
    assert (await sign_in(browser, "wrong")).status_code == 303

    for attempt in (sign_in(browser, KEY),
                    browser.get(f"/settings/shop/embed?token={link(settings)}")):
        refused = await attempt
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"] == "500"
        assert "too many failed sign-ins" in refused.text
    assert "Platform key" in (await browser.get("/settings/shop")).text  # not signed in

    async with browser_at(app, "198.51.100.9") as elsewhere:
        assert (await sign_in(elsewhere, KEY)).status_code == 303

    clock.now += 500  # the first failure leaves the window; two remain
    assert (await sign_in(browser, KEY)).status_code == 303
    assert "Connect Stripe" in (await browser.get("/settings/shop")).text
    # The success cleared the address's failures.
    for _ in range(2):
        await sign_in(browser, "wrong")
    assert (await sign_in(browser, KEY)).status_code == 303


async def test_embed_links_alone_lock_the_address_out(
        browser: httpx.AsyncClient, clock: Clock, settings: Settings) -> None:
    good = await browser.get(f"/settings/shop/embed?token={link(settings)}")
    assert good.status_code == 303
    for _ in range(3):
        assert (await browser.get("/settings/shop/embed?token=guess")).status_code == 401
    refused = await browser.get(f"/settings/shop/embed?token={link(settings)}")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
    assert refused.headers["Cache-Control"] == "no-store"
