"""The automations HTTP API on both databases: rules (the lifecycle, every kind of bad
input refused with nothing stored, workspace scoping, auth), the host platform's webhook
target and the delivery log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from revsync.settings import Settings
from revsync.store import db, workspaces
from tests.helpers.webhooks import webhook_client

TOKEN = "test-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/workspaces/shop/automations/rules"
RULE: dict[str, Any] = {
    "name": "thank big spenders",
    "trigger": {"kind": "ltv_crossed", "threshold": 500},
    "condition": "tag = customer",
    "action": {"kind": "email", "template": "thank_you"},
    "once_per_subscriber": True,
}


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, "shop")
        workspaces.get_or_create(session, "elsewhere")
    with_token = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with webhook_client(with_token, client) as http:
        yield http


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any = None,
               **kwargs: Any) -> tuple[int, Any]:
    response = await http.request(method, path, json=body, headers=AUTH, **kwargs)
    return response.status_code, response.json() if response.content else None


async def test_lifecycle(http: httpx.AsyncClient) -> None:
    status, made = await call(http, "POST", BASE, RULE)
    assert status == 201
    rule_id = made["id"]
    assert made == {"id": rule_id, "name": "thank big spenders",
                    "trigger": {"kind": "ltv_crossed", "threshold": "500", "direction": "up"},
                    "condition": "tag = customer",
                    "action": {"kind": "email", "template": "thank_you"},
                    "once_per_subscriber": True, "enabled": True}
    assert await call(http, "GET", BASE) == (200, {"rules": [made]})
    assert await call(http, "GET", f"{BASE}/{rule_id}") == (200, made)

    status, off = await call(http, "PATCH", f"{BASE}/{rule_id}", {"enabled": False})
    assert status == 200 and off["enabled"] is False
    status, replaced = await call(http, "PUT", f"{BASE}/{rule_id}", {
        **RULE, "name": "renamed", "action": {"kind": "notify_team", "template": "team_alert"}})
    assert status == 200 and (replaced["name"], replaced["enabled"]) == ("renamed", True)
    assert replaced["action"] == {"kind": "notify_team", "template": "team_alert"}
    assert await call(http, "DELETE", f"{BASE}/{rule_id}") == (204, None)
    assert await call(http, "GET", BASE) == (200, {"rules": []})


@pytest.mark.parametrize("body, message", [
    ({**RULE, "trigger": {"kind": "ltv_crossed"}}, "threshold is a number >= 0, not None"),
    ({**RULE, "condition": "ltv >> 5"}, "condition: position"),
    ({**RULE, "action": {"kind": "email", "template": "no_such_template"}},
     "no email template no_such_template"),
    ({**RULE, "name": "", "enabled": "yes"}, "name is 1-100 characters; enabled is true or false"),
    ([RULE], "a rule is a JSON object"),
])
async def test_invalid_rules_are_refused_and_nothing_is_saved(
        http: httpx.AsyncClient, body: Any, message: str) -> None:
    status, answer = await call(http, "POST", BASE, body)
    assert status == 422 and message in answer["error"]["message"]
    assert await call(http, "GET", BASE) == (200, {"rules": []})


async def test_a_bad_replacement_keeps_the_rule_as_it_was(http: httpx.AsyncClient) -> None:
    _, made = await call(http, "POST", BASE, RULE)
    status, answer = await call(http, "PUT", f"{BASE}/{made['id']}",
                                {**RULE, "action": {"kind": "sequence", "steps": []}})
    assert status == 422 and "steps is a list of 1-20 steps" in answer["error"]["message"]
    assert await call(http, "GET", f"{BASE}/{made['id']}") == (200, made)


async def test_names_are_unique_in_a_workspace_only(http: httpx.AsyncClient) -> None:
    assert (await call(http, "POST", BASE, RULE))[0] == 201
    status, answer = await call(http, "POST", BASE, {**RULE, "name": " thank big spenders "})
    assert status == 409 and "exists in this workspace" in answer["error"]["message"]
    other = "/api/workspaces/elsewhere/automations/rules"
    assert (await call(http, "POST", other, RULE))[0] == 201


async def test_another_workspaces_rule_is_not_found(http: httpx.AsyncClient) -> None:
    _, made = await call(http, "POST", "/api/workspaces/elsewhere/automations/rules", RULE)
    for method, body in (("GET", None), ("PUT", RULE), ("PATCH", {"enabled": False}),
                         ("DELETE", None)):
        status, answer = await call(http, method, f"{BASE}/{made['id']}", body)
        assert status == 404 and answer == {
            "error": {"message": f"no rule with id {made['id']} in this workspace"}}


@pytest.mark.parametrize("method, path, content, status, message", [
    ("POST", BASE, b"{not json", 400, "the body is not JSON"),
    ("POST", BASE, b"[" * 70_000, 413, "body larger than 65536 bytes"),
    ("PATCH", f"{BASE}/1", b'{"enabled": "yes"}', 422, "enabled: Input should be"),
    ("PATCH", f"{BASE}/1", b'{"enabled": true, "name": "x"}', 422, "name: Extra inputs"),
    ("GET", f"{BASE}/abc", b"", 404, "no rule with id 'abc' in this workspace"),
    ("GET", f"{BASE}/99999999999", b"", 404, "no rule with id '99999999999'"),
    ("GET", "/api/workspaces/nowhere/automations/rules", b"", 404, "unknown workspace"),
])
async def test_malformed_requests(http: httpx.AsyncClient, method: str, path: str,
                                  content: bytes, status: int, message: str) -> None:
    response = await http.request(method, path, content=content, headers=AUTH)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


async def test_the_token_is_required(http: httpx.AsyncClient) -> None:
    response = await http.get(BASE)
    assert response.status_code == 401
    response = await http.get(BASE, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


HOOK = "/api/workspaces/shop/automations/webhook"


async def test_the_webhook_target_is_set_shown_without_its_secret_and_cleared(
        http: httpx.AsyncClient) -> None:
    assert await call(http, "GET", HOOK) == (200, {"url": None, "secret_set": False})
    secret = "whsec_platform_0123456789"
    status, shown = await call(http, "PUT", HOOK, {"url": "https://hooks.example.com/revsync",
                                                  "secret": secret})
    assert (status, shown) == (200, {"url": "https://hooks.example.com/revsync",
                                     "secret_set": True})
    response = await http.get(HOOK, headers=AUTH)
    assert secret not in response.text
    assert await call(http, "PUT", HOOK, {"url": None}) == (200, {"url": None,
                                                                  "secret_set": False})


@pytest.mark.parametrize("body, message", [
    ({"url": "javascript:alert(1)", "secret": "s" * 20}, "an https URL with a host"),
    ({"url": "http://hooks.example.com", "secret": "s" * 20}, "an https URL with a host"),
    ({"url": "https://127.0.0.1:5432", "secret": "s" * 20}, "private address"),
    ({"url": "https://hooks.example.com"}, "secret has at least 16 characters"),
    ({"url": "https://hooks.example.com", "secret": "tiny"}, "at least 16 characters"),
    ({"url": 5, "secret": "s" * 20}, "url: Input should be a valid string"),
    ({"secret": "s" * 20}, "url: Field required"),
])
async def test_bad_webhook_targets_are_refused(http: httpx.AsyncClient, body: Any,
                                               message: str) -> None:
    status, answer = await call(http, "PUT", HOOK, body)
    assert status == 422 and message in answer["error"]["message"]
    assert await call(http, "GET", HOOK) == (200, {"url": None, "secret_set": False})


@pytest.mark.parametrize("query, status", [
    ("", 200), ("?limit=500", 200), ("?limit=0", 422), ("?limit=501", 422),
    ("?limit=x", 422), ("?limit=-1", 422),
])
async def test_the_delivery_log_and_its_limit(http: httpx.AsyncClient, query: str,
                                              status: int) -> None:
    code, answer = await call(http, "GET", f"/api/workspaces/shop/automations/deliveries{query}")
    assert code == status
    if status == 200:
        assert answer == {"deliveries": []}
    else:
        assert "limit is a whole number from 1 to 500" in answer["error"]["message"]
