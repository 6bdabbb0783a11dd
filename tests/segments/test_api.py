"""The segments HTTP API on both databases: platform key required (closed when unset),
workspace scoping, JSON errors with the right status, nothing stored on bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from revsync.settings import Settings
from tests.helpers.webhooks import webhook_client
from tests.segments import dataset

TOKEN = "test-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/workspaces/shop/segments"


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    dataset.load(settings.resolved_database_url)
    with_token = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with webhook_client(with_token, client) as http:
        yield http


async def call(http: httpx.AsyncClient, method: str, path: str,
               body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    response = await http.request(method, path, json=body, headers=AUTH, **kwargs)
    return response.status_code, response.json() if response.content else None


async def created(http: httpx.AsyncClient, name: str, expression: str,
                  base: str = BASE) -> int:
    status, body = await call(http, "POST", base, {"name": name, "expression": expression})
    assert status == 201, body
    return int(body["id"])


async def test_lifecycle(http: httpx.AsyncClient) -> None:
    segment_id = await created(http, "Big", "ltv > 1000")
    status, body = await call(http, "GET", f"{BASE}/{segment_id}")
    assert status == 200 and (body["name"], body["expression"], body["default_key"]) == (
        "Big", "ltv > 1000", None)
    status, body = await call(http, "GET", BASE)
    assert status == 200 and [s["name"] for s in body["segments"]] == ["Big"]
    assert await call(http, "GET", f"{BASE}/{segment_id}/count") == (200, {"count": 3})

    status, page = await call(http, "GET", f"{BASE}/{segment_id}/members?limit=2")
    assert status == 200 and [m["email"] for m in page["members"]] == ["a@x.test", "f@x.test"]
    assert page["members"][0] == {"id": page["members"][0]["id"], "email": "a@x.test",
                                  "mrr": "120.00", "ltv": "1500.00",
                                  "tags": ["customer", "saas.monthly"]}
    status, rest = await call(http, "GET", f"{BASE}/{segment_id}/members",
                              params={"after": page["next_after"], "limit": 2})
    assert [m["email"] for m in rest["members"]] == ["i@x.test"] and rest["next_after"] is None

    status, body = await call(http, "PATCH", f"{BASE}/{segment_id}",
                              {"expression": "ltv > 2000"})
    assert status == 200 and (body["name"], body["expression"]) == ("Big", "ltv > 2000")
    status, body = await call(http, "PATCH", f"{BASE}/{segment_id}", {"name": "Whales"})
    assert status == 200 and body["name"] == "Whales"
    assert await call(http, "GET", f"{BASE}/{segment_id}/count") == (200, {"count": 1})
    assert await call(http, "DELETE", f"{BASE}/{segment_id}") == (204, None)
    status, body = await call(http, "GET", f"{BASE}/{segment_id}")
    assert status == 404 and "no segment" in body["error"]["message"]


async def test_check(http: httpx.AsyncClient) -> None:
    assert await call(http, "POST", f"{BASE}/check", {"expression": "MRR>=5"}) == (
        200, {"ok": True})
    status, body = await call(http, "POST", f"{BASE}/check", {"expression": "mrr >="})
    assert status == 422
    assert body == {"error": {
        "message": "position 7: expected a value after '>=' (number, quoted string or "
                   "word), found end of input",
        "position": 7, "found": None,
        "expected": "a value after '>=' (number, quoted string or word)"}}


@pytest.mark.parametrize("method, path, body, status, message", [
    ("POST", BASE, {"name": "Low", "expression": "mrr < 1"}, 409, "already exists"),
    ("POST", BASE, {"name": "X", "expression": "mrr <"}, 422, "position 6"),
    ("POST", BASE, {"name": "", "expression": "mrr < 1"}, 422, "segment names are"),
    ("POST", BASE, {"name": "X"}, 422, "expression: Field required"),
    ("POST", BASE, {"name": "X", "expression": "mrr < 1", "x": 1}, 422, "x: Extra inputs"),
    ("POST", BASE, {"name": 5, "expression": "mrr < 1"}, 422, "name: Input should be"),
    ("POST", BASE, ["not", "an", "object"], 422, "Input should be"),
    ("POST", BASE, b"{not json", 400, "the body is not JSON"),
    ("POST", BASE, b"x" * 70_000, 413, "body larger than"),
    ("POST", "/api/workspaces/nowhere/segments", {"name": "X", "expression": "mrr < 1"},
     404, "unknown workspace"),
    ("POST", "/api/workspaces/bad%20name/segments", {"name": "X", "expression": "mrr < 1"},
     404, "unknown workspace"),
    ("POST", f"{BASE}/check", {"expression": 5}, 422, "expression: Input should be"),
    ("PATCH", f"{BASE}/LOW", {"name": "High"}, 409, "already exists"),
    ("PATCH", f"{BASE}/LOW", {}, 422, "nothing to change"),
    ("PATCH", f"{BASE}/LOW", {"expression": "tag > 1"}, 422, "tag takes ="),
    ("PATCH", f"{BASE}/THEIRS", {"name": "Mine"}, 404, "no segment with id"),
    ("DELETE", f"{BASE}/THEIRS", None, 404, "no segment with id"),
    ("GET", f"{BASE}/THEIRS", None, 404, "no segment with id"),
    ("GET", f"{BASE}/THEIRS/count", None, 404, "no segment with id"),
    ("GET", f"{BASE}/THEIRS/members", None, 404, "no segment with id"),
    ("GET", f"{BASE}/abc", None, 404, "no segment with id 'abc'"),
    ("GET", f"{BASE}/99999999999", None, 404, "no segment with id"),
    ("GET", "/api/workspaces/nowhere/segments/LOW", None, 404, "unknown workspace"),
    ("GET", f"{BASE}/LOW/members?limit=501", None, 422, "limit must be 1-500"),
    ("GET", f"{BASE}/LOW/members?limit=x", None, 422, "limit must be an integer"),
    ("GET", f"{BASE}/LOW/members?after=-5", None, 422, "after must be a subscriber id"),
])
async def test_errors_change_nothing(http: httpx.AsyncClient, method: str, path: str,
                                     body: Any, status: int, message: str) -> None:
    low = await created(http, "Low", "mrr < 50")
    await created(http, "High", "mrr > 50")
    theirs = await created(http, "Theirs", "mrr > 1", base="/api/workspaces/elsewhere/segments")
    path = path.replace("LOW", str(low)).replace("THEIRS", str(theirs))
    kwargs: dict[str, Any] = ({"content": body} if isinstance(body, bytes)
                              else {"json": body} if body is not None else {})
    response = await http.request(method, path, headers=AUTH, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    _, listed = await call(http, "GET", BASE)
    assert [(s["name"], s["expression"]) for s in listed["segments"]] == [
        ("High", "mrr > 50"), ("Low", "mrr < 50")]
    _, theirs_listed = await call(http, "GET", "/api/workspaces/elsewhere/segments")
    assert [s["name"] for s in theirs_listed["segments"]] == ["Theirs"]


ROUTES = [("GET", BASE), ("POST", BASE), ("POST", f"{BASE}/check"), ("GET", f"{BASE}/1"),
          ("PATCH", f"{BASE}/1"), ("DELETE", f"{BASE}/1"), ("GET", f"{BASE}/1/count"),
          ("GET", f"{BASE}/1/members"), ("GET", "/api/workspaces/nowhere/segments")]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"},
    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer tökén".encode()},
])
async def test_requests_without_the_token_are_refused(http: httpx.AsyncClient,
                                                      headers: dict[str, Any]) -> None:
    await created(http, "Low", "mrr < 50")
    for method, path in ROUTES:
        response = await http.request(method, path, headers=headers,
                                      json={"name": "X", "expression": "mrr < 1"})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
        assert "missing or wrong credentials" in response.json()["error"]["message"]
    _, listed = await call(http, "GET", BASE)
    assert [s["name"] for s in listed["segments"]] == ["Low"]


async def test_without_a_configured_token_the_api_is_closed(settings: Settings,
                                                            client: Client) -> None:
    assert settings.platform_key is None
    async with webhook_client(settings, client) as http:
        for method, path in ROUTES:
            for headers in ({}, AUTH, {"Authorization": "Bearer "}):
                response = await http.request(method, path, headers=headers)
                assert response.status_code == 503
                assert response.json() == {"error": {"message": "platform key not configured "
                                                                "(set REVSYNC_PLATFORM_KEY)"}}


def test_platform_key_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_PLATFORM_KEY", TOKEN)
    token = Settings().platform_key
    assert token is not None and token.get_secret_value() == TOKEN
    assert TOKEN not in repr(Settings())
    monkeypatch.setenv("REVSYNC_PLATFORM_KEY", "")
    assert Settings().platform_key is None
    monkeypatch.setenv("REVSYNC_PLATFORM_KEY", "short")
    with pytest.raises(ValueError, match="at least 16 characters"):
        Settings()
