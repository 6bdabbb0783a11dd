"""Every JSON API refusal, on every route of the setup, segments, automations, explain
and subscribers APIs, has the one error shape `{"error": {"message": ...}}` with the same
status and message for the same mistake: no token, an unknown workspace, a body that is
not JSON (malformed, empty, a form), a body over the route's limit (the JSON API's, or
the batch routes' own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.web import openapi
from revsync.web.bodies import MAX_BATCH_BODY, MAX_JSON_BODY
from tests.helpers.webhooks import webhook_client

TOKEN = "test-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPERATIONS = [(op.method.upper(), op.path) for op in openapi.OPERATIONS]
TAKING_BODIES = [(op.method.upper(), op.path) for op in openapi.OPERATIONS if op.body]
LIMITS = {(op.method.upper(), op.path): op.limit for op in openapi.OPERATIONS}
NOT_JSON: dict[str, dict[str, Any]] = {
    "malformed": {"content": b"{not json"},
    "empty": {"content": b""},
    "a form": {"data": {"name": "x"}},  # application/x-www-form-urlencoded
}


def url(path: str, workspace: str = "shop") -> str:
    return (path.replace("{workspace}", workspace).replace("{segment_id}", "1")
            .replace("{rule_id}", "1").replace("{subscriber_id}", "1")
            .replace("{key_id}", "1").replace("{email}", "ann@example.com")
            .replace("{external_id}", "crm-1"))


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, "shop")
    with_token = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with webhook_client(with_token, client) as http:
        yield http


def refusal(response: httpx.Response) -> tuple[int, str]:
    """The status and message of a refusal in the one shape (nothing else in it)."""
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert list(body) == ["error"] and list(body["error"]) == ["message"], body
    assert isinstance(body["error"]["message"], str)
    return response.status_code, body["error"]["message"]


def test_every_api_route_is_covered() -> None:
    assert len(OPERATIONS) > 20 and len(TAKING_BODIES) >= 9


async def test_without_the_token(http: httpx.AsyncClient) -> None:
    for method, path in OPERATIONS:
        response = await http.request(method, url(path), json={})
        assert refusal(response) == (
            401, "missing or wrong credentials (Authorization: Bearer <platform key or "
                 "workspace API key>)"), path
        assert response.headers["www-authenticate"] == "Bearer"


async def test_an_unknown_workspace(http: httpx.AsyncClient) -> None:
    for method, path in OPERATIONS:
        if method == "GET" and "{workspace}" in path:  # not the platform's own feed
            response = await http.request(method, url(path, "nowhere"), headers=AUTH)
            assert refusal(response) == (404, "unknown workspace"), path
            response = await http.request(method, url(path, "bad%20name"), headers=AUTH)
            assert refusal(response) == (404, "unknown workspace"), path


async def test_a_body_that_is_not_json(http: httpx.AsyncClient) -> None:
    for method, path in TAKING_BODIES:
        for what, request in NOT_JSON.items():
            response = await http.request(method, url(path), headers=AUTH, **request)
            assert refusal(response) == (400, "the body is not JSON"), (path, what)


async def test_a_body_over_the_limit(http: httpx.AsyncClient) -> None:
    for method, path in TAKING_BODIES:
        limit = LIMITS[method, path]
        assert limit in (MAX_JSON_BODY, MAX_BATCH_BODY)
        response = await http.request(method, url(path), headers=AUTH,
                                      content=b"[" * (limit + 1))
        assert refusal(response) == (413, f"body larger than {limit} bytes"), path
