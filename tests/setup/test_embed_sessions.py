"""Embed links over real HTTP, on SQLite and PostgreSQL: the platform mints one with
its key; the browser opening it is signed in to that workspace's settings page only
(another workspace's page, poll and forms: 404), once; an expired, reused, unknown or
misplaced link signs nobody in; sign-out ends the session. And the cookie's flags (http
and https) and the frame-ancestors header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import update
from sqlmodel import func, select
from temporalio.client import Client

from revsync.credentials import embed
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import EmbedSession, PageSession, utcnow
from revsync.web.app import create_app
from revsync.web.embed_page import REFUSED
from tests.helpers.pages import csrf_of

PLATFORM_KEY = "platform-key-for-embeds-0123456789"
PLATFORM = {"Authorization": f"Bearer {PLATFORM_KEY}"}
FORMS = ("sync", "connect", "options", "dry-run", "disconnect", "rules-add", "login",
         "logout", "products-refresh", "segment-count")


@pytest.fixture
def platform(settings: Settings) -> Settings:
    with db.session(settings.resolved_database_url) as session:
        for name in ("alpha", "beta"):
            workspaces.get_or_create(session, name)
    return settings.model_copy(update={"platform_key": SecretStr(PLATFORM_KEY),
                                       "embed_frame_ancestors": "https://app.platform.test"})


@pytest.fixture
def transport(platform: Settings, client: Client) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(platform, client))


def browser(transport: httpx.ASGITransport, scheme: str = "http") -> httpx.AsyncClient:
    """A browser of its own (its own cookie jar)."""
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://revsync.test")


@pytest.fixture
async def backend(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """The platform's backend, holding the platform key."""
    async with browser(transport) as http:
        yield http


async def link(backend: httpx.AsyncClient, workspace: str, user: str = "user-42") -> str:
    answer = await backend.post(f"/api/workspaces/{workspace}/embed-sessions",
                                headers=PLATFORM, json={"user": user})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["url"].startswith(f"/settings/{workspace}/embed?token=")
    assert body["expires_at"] > utcnow().isoformat()
    url: str = body["url"]
    return url


async def test_a_link_signs_in_to_its_workspace_only(
        transport: httpx.ASGITransport, backend: httpx.AsyncClient) -> None:
    url = await link(backend, "alpha")
    async with browser(transport) as http:
        opened = await http.get(url)
        assert opened.status_code == 303 and opened.headers["location"] == "/settings/alpha"
        assert opened.headers["cache-control"] == "no-store"
        assert opened.headers["referrer-policy"] == "no-referrer"
        page = await http.get("/settings/alpha")
        assert page.status_code == 200 and "Connect Stripe" in page.text
        assert "user-42" in page.text and "Sign out" in page.text
        csrf = csrf_of(page.text)

        for other in ("beta", "nowhere"):
            assert (await http.get(f"/settings/{other}")).status_code == 404
            assert (await http.get(f"/settings/{other}/progress")).status_code == 404
            assert (await http.get(f"/settings/{other}/oauth")).status_code == 404
            for form in FORMS:
                answer = await http.post(f"/settings/{other}/{form}",
                                         data={"csrf": csrf, "token": PLATFORM_KEY})
                assert answer.status_code == 404, (other, form)
                assert answer.text == f"no workspace named {other!r}"
        # Nothing of the above widened the session.
        assert (await http.get("/settings/beta")).status_code == 404
        assert (await http.get("/settings/alpha/progress")).json()["running"] is False

        # The same link again, in another browser: nothing signed in.
        async with browser(transport) as second:
            again = await second.get(url)
            assert again.status_code == 401 and again.text == REFUSED
            assert "set-cookie" not in again.headers
            assert "Platform key" in (await second.get("/settings/alpha")).text

        # Sign-out needs the CSRF token, then ends the session.
        assert (await http.post("/settings/alpha/logout", data={})).status_code == 403
        out = await http.post("/settings/alpha/logout", data={"csrf": csrf})
        assert out.status_code == 303
        after = await http.get("/settings/alpha")
        assert "Platform key" in after.text and "Signed out." in after.text
        assert (await http.post("/settings/alpha/sync", data={"csrf": csrf})).status_code in (
            303, 403)
        assert (await http.get("/settings/alpha/progress")).status_code == 401


async def test_expired_unknown_and_misplaced_links_sign_nobody_in(
        transport: httpx.ASGITransport, backend: httpx.AsyncClient,
        platform: Settings) -> None:
    expired = await link(backend, "alpha")
    with db.session(platform.resolved_database_url) as session:
        session.execute(update(EmbedSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    alpha = await link(backend, "alpha")
    token = alpha.split("token=", 1)[1]
    async with browser(transport) as http:
        for url in (expired, "/settings/alpha/embed?token=nothing", "/settings/alpha/embed",
                    f"/settings/beta/embed?token={token}",
                    f"/settings/nowhere/embed?token={token}"):
            answer = await http.get(url)
            assert (answer.status_code, answer.text) == (401, REFUSED), url
            assert "Platform key" in (await http.get("/settings/alpha")).text
        # The link opened on the wrong workspace was not used up.
        assert (await http.get(alpha)).status_code == 303
        assert "Connect Stripe" in (await http.get("/settings/alpha")).text
        # A failed link ends the session that was there.
        assert (await http.get(expired)).status_code == 401
        assert "Platform key" in (await http.get("/settings/alpha")).text


async def test_the_platform_sign_in_opens_every_workspace(
        transport: httpx.ASGITransport) -> None:
    async with browser(transport) as http:
        csrf = csrf_of((await http.get("/settings/alpha")).text)
        await http.post("/settings/alpha/login", data={"token": PLATFORM_KEY, "csrf": csrf})
        for name in ("alpha", "beta"):
            page = await http.get(f"/settings/{name}")
            assert "Connect Stripe" in page.text and "platform operator" in page.text
        assert (await http.get("/settings/nowhere")).status_code == 404


async def test_cookie_flags_and_framing(transport: httpx.ASGITransport,
                                        backend: httpx.AsyncClient) -> None:
    for scheme, flags in (("http", {"httponly", "samesite=lax"}),
                          ("https", {"httponly", "samesite=none", "secure", "partitioned"})):
        url = await link(backend, "alpha")
        async with browser(transport, scheme) as http:
            opened = await http.get(url)
            cookie = opened.headers["set-cookie"]
            assert cookie.startswith("revsync_session=")
            attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
            assert flags <= attributes and ("secure" in attributes) == (scheme == "https")
            page = await http.get("/settings/alpha")
            assert page.headers["content-security-policy"] == (
                "frame-ancestors https://app.platform.test")


def test_the_frame_ancestors_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).embed_frame_ancestors == "'self'"
    for bad in ("'self'; script-src *", "a\nb", ""):
        monkeypatch.setenv("REVSYNC_EMBED_FRAME_ANCESTORS", bad)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)


def test_a_link_is_used_once_and_expires_by_the_clock(platform: Settings) -> None:
    now = utcnow()
    with db.session(platform.resolved_database_url) as session:
        alpha = workspaces.by_name(session, "alpha")
        assert alpha.id is not None
        token, expires_at = embed.create_link(session, alpha.id, "u", 5, now)
        assert expires_at == now + timedelta(minutes=5)
        late = expires_at + timedelta(microseconds=1)
        assert embed.consume(session, alpha.id, token, late) is None
        assert embed.consume(session, alpha.id, token, expires_at - timedelta(seconds=1)) == "u"
        assert embed.consume(session, alpha.id, token, now) is None


async def every_page_route_refused(http: httpx.AsyncClient, csrf: str) -> None:
    """The browser is signed out: the page asks for the key, the poll says sign in, the
    forms refuse (the CSRF token of the ended session is worth nothing)."""
    page = await http.get("/settings/alpha")
    assert page.status_code == 200 and "Platform key" in page.text
    assert (await http.get("/settings/alpha/progress")).status_code == 401
    assert (await http.get("/settings/alpha/oauth")).status_code in (303, 401, 404)
    for form in FORMS:
        if form == "login":
            continue
        answer = await http.post(f"/settings/alpha/{form}", data={"csrf": csrf})
        assert answer.status_code in (401, 403), (form, answer.status_code)


async def test_a_copied_cookie_is_refused_once_its_session_signs_out(
        transport: httpx.ASGITransport, backend: httpx.AsyncClient) -> None:
    url = await link(backend, "alpha")
    async with browser(transport) as http, browser(transport) as thief:
        assert (await http.get(url)).status_code == 303
        csrf = csrf_of((await http.get("/settings/alpha")).text)
        thief.cookies.update(http.cookies)  # the cookie, copied off the machine
        assert "Connect Stripe" in (await thief.get("/settings/alpha")).text
        assert (await http.post("/settings/alpha/logout", data={"csrf": csrf})).status_code == 303
        await every_page_route_refused(thief, csrf)


async def test_a_session_past_its_lifetime_is_refused(
        transport: httpx.ASGITransport, backend: httpx.AsyncClient,
        platform: Settings) -> None:
    url = await link(backend, "alpha")
    async with browser(transport) as http:
        assert (await http.get(url)).status_code == 303
        csrf = csrf_of((await http.get("/settings/alpha")).text)
        with db.session(platform.resolved_database_url) as session:
            session.execute(update(PageSession).values(
                expires_at=utcnow() - timedelta(seconds=1)))
            session.commit()
        await every_page_route_refused(http, csrf)


async def test_a_sign_in_forgets_sessions_and_links_ended_a_day_ago(
        transport: httpx.ASGITransport, backend: httpx.AsyncClient,
        platform: Settings) -> None:
    old_link, old_session = await link(backend, "alpha"), await link(backend, "alpha")
    async with browser(transport) as http:
        assert (await http.get(old_session)).status_code == 303
    with db.session(platform.resolved_database_url) as session:
        for table in (EmbedSession, PageSession):
            session.execute(update(table).values(expires_at=utcnow() - timedelta(days=2)))
        session.commit()
    fresh = await link(backend, "alpha")
    async with browser(transport) as http:
        assert (await http.get(fresh)).status_code == 303
    with db.session(platform.resolved_database_url) as session:
        assert session.exec(select(func.count()).select_from(PageSession)).one() == 1
        assert session.exec(select(func.count()).select_from(EmbedSession)).one() == 1
    assert old_link != fresh
