"""Workspace API keys over real HTTP, on every workspace-scoped route the app has
(whatever its package; iterated from the app's routes), on SQLite and PostgreSQL:

* a key of workspace A opens A's routes and gets 404 on B's, as an unknown workspace;
* a read key passes on GET and gets 403 on everything else;
* a revoked key is refused at the next request;
* only the platform key mints, lists and revokes keys and embed links;
* the platform key opens every route of every workspace;
* malformed credential requests get the shared error shape.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import update
from starlette.routing import Route
from temporalio.client import Client

from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import ApiKey, utcnow
from revsync.web import openapi
from revsync.web.app import create_app

PLATFORM_KEY = "platform-key-for-tests-0123456789"
PLATFORM = {"Authorization": f"Bearer {PLATFORM_KEY}"}
PLATFORM_ONLY = {(op.method.upper(), op.path) for op in openapi.OPERATIONS if op.platform_only}
UNKNOWN = (404, "unknown workspace")
# The body of every request that tests a credential: a JSON array, which no route takes,
# so a route that lets the caller in refuses the body (422) before doing any work (a
# dry run would wait for a worker).
NO_WORK: list[object] = []


@pytest.fixture
def platform(settings: Settings) -> Settings:
    with db.session(settings.resolved_database_url) as session:
        for name in ("alpha", "beta"):
            workspaces.get_or_create(session, name)
    return settings.model_copy(update={"platform_key": SecretStr(PLATFORM_KEY)})


@pytest.fixture
async def http(platform: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform, client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://revsync.test") as http:
        http.app_routes = [  # type: ignore[attr-defined]
            (method, route.path) for route in app.routes if isinstance(route, Route)
            and route.path.startswith("/api/workspaces/{workspace}")
            for method in sorted(route.methods or ()) if method != "HEAD"]
        yield http


def routes(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = http.app_routes  # type: ignore[attr-defined]
    assert len(found) > 25
    return found


def url(path: str, workspace: str) -> str:
    """The route's path for `workspace`, every other path parameter 1."""
    return re.sub(r"\{[a-z_]+\}", "1", path.replace("{workspace}", workspace))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def mint(http: httpx.AsyncClient, workspace: str, scope: str,
               name: str = "tests") -> dict[str, object]:
    answer = await http.post(f"/api/workspaces/{workspace}/api-keys", headers=PLATFORM,
                             json={"name": name, "scope": scope})
    assert answer.status_code == 201, answer.text
    key: dict[str, object] = answer.json()
    return key


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and message of a refusal in the one shape."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"]["message"], str), body
    return response.status_code, body["error"]["message"]


def passed_auth(response: httpx.Response) -> bool:
    """Whatever the route answered, it was not a refusal of the credential."""
    if response.status_code in (401, 403, 503):
        return False
    return not (response.status_code == 404 and refusal(response) == UNKNOWN)


async def test_a_key_opens_its_workspace_and_no_other(http: httpx.AsyncClient) -> None:
    alpha = bearer(str((await mint(http, "alpha", "write"))["secret"]))
    for method, path in routes(http):
        other = await http.request(method, url(path, "beta"), headers=alpha, json=NO_WORK)
        assert refusal(other) == UNKNOWN, (method, path)
        unknown = await http.request(method, url(path, "nowhere"), headers=alpha, json=NO_WORK)
        assert refusal(unknown) == UNKNOWN, (method, path)
        own = await http.request(method, url(path, "alpha"), headers=alpha, json=NO_WORK)
        if (method, path) in PLATFORM_ONLY:
            assert refusal(own) == (403, "this needs the platform key; a workspace API key "
                                         "cannot manage credentials"), (method, path)
        else:
            assert passed_auth(own), (method, path, own.status_code, own.text)


async def test_a_read_key_only_reads(http: httpx.AsyncClient) -> None:
    read = bearer(str((await mint(http, "alpha", "read"))["secret"]))
    for method, path in routes(http):
        answer = await http.request(method, url(path, "alpha"), headers=read, json=NO_WORK)
        if method == "GET" and (method, path) not in PLATFORM_ONLY:
            assert passed_auth(answer), (method, path, answer.status_code, answer.text)
        elif (method, path) not in PLATFORM_ONLY:
            assert refusal(answer) == (403, f"this API key may only read (scope 'read'); "
                                            f"{method} needs a write key"), (method, path)
        else:
            assert answer.status_code == 403, (method, path)
    head = await http.head("/api/workspaces/alpha/stripe", headers=read)
    assert head.status_code == 200


async def test_the_platform_key_opens_every_workspace(http: httpx.AsyncClient) -> None:
    for method, path in routes(http):
        for workspace in ("alpha", "beta"):
            answer = await http.request(method, url(path, workspace), headers=PLATFORM,
                                        json=NO_WORK)
            assert passed_auth(answer), (method, path, answer.status_code, answer.text)


async def test_a_revoked_key_is_refused_at_once(http: httpx.AsyncClient,
                                                platform: Settings) -> None:
    key = await mint(http, "alpha", "write")
    headers = bearer(str(key["secret"]))
    assert (await http.get("/api/workspaces/alpha/segments", headers=headers)).status_code == 200
    listed = (await http.get("/api/workspaces/alpha/api-keys", headers=PLATFORM)).json()
    [shown] = listed["api_keys"]
    used = shown["last_used_at"]
    assert used is not None and "secret" not in shown and "secret_hash" not in shown
    assert str(key["secret"]).startswith(f"rsk_{shown['prefix']}_")
    # Used again within the minute: no second write.
    assert (await http.get("/api/workspaces/alpha/segments", headers=headers)).status_code == 200
    listed = (await http.get("/api/workspaces/alpha/api-keys", headers=PLATFORM)).json()
    assert listed["api_keys"][0]["last_used_at"] == used
    # A minute later it is written again.
    with db.session(platform.resolved_database_url) as session:
        session.execute(update(ApiKey).values(last_used_at=utcnow() - timedelta(minutes=2)))
        session.commit()
    assert (await http.get("/api/workspaces/alpha/segments", headers=headers)).status_code == 200
    listed = (await http.get("/api/workspaces/alpha/api-keys", headers=PLATFORM)).json()
    assert listed["api_keys"][0]["last_used_at"] > used

    revoked = await http.delete(f"/api/workspaces/alpha/api-keys/{key['id']}", headers=PLATFORM)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    for method, path in routes(http):
        answer = await http.request(method, url(path, "alpha"), headers=headers, json=NO_WORK)
        assert refusal(answer) == (401, "this API key has been revoked"), (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"
    again = await http.delete(f"/api/workspaces/alpha/api-keys/{key['id']}", headers=PLATFORM)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_only_the_platform_key_manages_credentials(http: httpx.AsyncClient) -> None:
    key = await mint(http, "alpha", "write")
    alpha = bearer(str(key["secret"]))
    manage = [("POST", "/api-keys", {"name": "wider", "scope": "write"}),
              ("GET", "/api-keys", None), ("DELETE", f"/api-keys/{key['id']}", None),
              ("POST", "/embed-sessions", {"user": "someone"})]
    for method, tail, body in manage:
        own = await http.request(method, f"/api/workspaces/alpha{tail}", headers=alpha,
                                 json=body)
        assert own.status_code == 403, (method, tail)
        other = await http.request(method, f"/api/workspaces/beta{tail}", headers=alpha,
                                   json=body)
        assert refusal(other) == UNKNOWN
        anonymous = await http.request(method, f"/api/workspaces/alpha{tail}", json=body)
        assert anonymous.status_code == 401
    listed = (await http.get("/api/workspaces/alpha/api-keys", headers=PLATFORM)).json()
    assert [k["name"] for k in listed["api_keys"]] == ["tests"]
    assert listed["api_keys"][0]["revoked_at"] is None


@pytest.mark.parametrize("body, message", [
    ({"name": "x", "scope": "admin"}, "scope: Input should be 'read' or 'write'"),
    ({"name": "", "scope": "read"}, "name: String should have at least 1 character"),
    ({"name": "   ", "scope": "read"}, "name: String should match pattern"),
    ({"name": "x" * 101, "scope": "read"}, "name: String should have at most 100 characters"),
    ({"name": "x"}, "scope: Field required"),
    ({"name": "x", "scope": "read", "extra": 1}, "extra: Extra inputs are not permitted"),
    ([], "body: Input should be a valid dictionary"),
])
async def test_malformed_key_requests(http: httpx.AsyncClient, body: object,
                                      message: str) -> None:
    answer = await http.post("/api/workspaces/alpha/api-keys", headers=PLATFORM, json=body)
    status, text = refusal(answer)
    assert status == 422 and message in text
    listed = (await http.get("/api/workspaces/alpha/api-keys", headers=PLATFORM)).json()
    assert listed["api_keys"] == []


async def test_unknown_key_ids_and_credentials(http: httpx.AsyncClient) -> None:
    beta_key = await mint(http, "beta", "write")
    for key_id in ("999", "abc", "-1", "1e3", str(2**40), str(beta_key["id"])):
        answer = await http.delete(f"/api/workspaces/alpha/api-keys/{key_id}",
                                   headers=PLATFORM)
        assert refusal(answer) == (404, f"no API key with id {key_id!r} in this workspace"
                                   if not key_id.isdigit() or int(key_id) > 2**31
                                   else f"no API key with id {key_id} in this workspace")
    beta = await http.get("/api/workspaces/beta/segments", headers=bearer(str(beta_key["secret"])))
    assert beta.status_code == 200  # still live: revoking it on alpha's path did nothing
    for presented in ("rsk_", "rsk_00000000_nothing", str(beta_key["secret"]) + "x",
                      "Bearer", "tökén"):
        answer = await http.get("/api/workspaces/alpha/segments",
                                headers={b"Authorization": f"Bearer {presented}".encode()})
        assert answer.status_code == 401, presented
    empty = await http.post("/api/workspaces/alpha/embed-sessions", headers=PLATFORM,
                            json={"user": " "})
    assert refusal(empty)[0] == 422
