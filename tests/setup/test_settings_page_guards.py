"""The settings page refuses forms without the session's CSRF token, and everything
before sign-in; a wrong token signs nobody in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from revsync.automations import rule_store
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.web.app import create_app
from tests.helpers.pages import csrf_of, page_client

TOKEN = "page-platform-key-0123456789"


@pytest.fixture
async def browser(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with page_client(settings, client, TOKEN) as http:
        yield http


async def test_forms_need_the_csrf_token_and_a_signed_in_session(
    settings: Settings, browser: httpx.AsyncClient
) -> None:
    name = f"guard-{uuid.uuid4().hex[:6]}"
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, name)
    page = await browser.get(f"/settings/{name}")
    assert page.status_code == 200 and "Platform key" in page.text
    csrf = csrf_of(page.text)

    forged = await browser.post(f"/settings/{name}/login", data={"token": TOKEN})
    assert forged.status_code == 403 and "CSRF" in forged.text
    other = await browser.post(f"/settings/{name}/login", data={"token": TOKEN, "csrf": "x"})
    assert other.status_code == 403

    # Signed out: a form with the right CSRF token still does nothing but redirect.
    early = await browser.post(f"/settings/{name}/sync", data={"csrf": csrf})
    assert early.status_code == 303
    rule = {"name": "r", "trigger_kind": "payment", "action_kind": "email",
            "template": "thank_you"}
    for form in (rule, {**rule, "csrf": csrf}):  # forged, then signed out
        answer = await browser.post(f"/settings/{name}/rules-add", data=form)
        assert answer.status_code in (303, 403)
    count = await browser.post(f"/settings/{name}/segment-count",
                               data={"csrf": csrf, "expression": "ltv > 0"})
    assert count.status_code == 401  # a script's request: no redirect to follow
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
        assert workspace.id is not None
        assert rule_store.list_rules(session, workspace.id) == []
    assert "Platform key" in (await browser.get(f"/settings/{name}")).text

    wrong = await browser.post(f"/settings/{name}/login", data={"token": "nope", "csrf": csrf})
    assert wrong.status_code == 303
    assert "wrong platform key" in (await browser.get(f"/settings/{name}")).text

    await browser.post(f"/settings/{name}/login", data={"token": TOKEN, "csrf": csrf})
    signed_in = await browser.get(f"/settings/{name}")
    assert "Connect Stripe" in signed_in.text
    assert csrf_of(signed_in.text) != csrf  # a fresh token after sign-in
    assert (await browser.get("/settings/nobody")).status_code == 404
    assert (await browser.get(f"/settings/{name}/progress")).json()["running"] is False


async def test_without_a_platform_key_the_page_is_closed(settings: Settings,
                                                         client: Client) -> None:
    transport = httpx.ASGITransport(app=create_app(settings, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
        assert (await http.get("/settings/any")).status_code == 503


async def test_the_stylesheet_is_served_by_the_app_and_nothing_else_is(
        browser: httpx.AsyncClient) -> None:
    css = await browser.get("/static/settings.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--accent" in css.text
    assert (await browser.get("/static/../settings.py")).status_code == 404
    assert (await browser.get("/static/nothing.css")).status_code == 404
