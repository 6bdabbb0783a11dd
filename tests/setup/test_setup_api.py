"""The setup step's JSON API: every operation, its validation errors, auth and scoping.
Real workflows on the dev server, fake Stripe over HTTP, both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.web.app import create_app
from tests.helpers.e2e import KEY, connect_workspace, import_emails, money, synced_values
from tests.helpers.stripe_objects import charge, customer, monthly, subscription

TOKEN = "platform-key-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CY_KEY = "sk_test_cy_account"


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    s = FakeStripe(api_keys=[KEY])
    s.put("product", {"id": "prod_gold", "name": "Gold"})
    s.put("product", {"id": "prod_basic", "name": "Basic"})
    ann = customer(s, "ann@x.io", metadata={"plan": "pro", "company": "Acme"})
    charge(s, ann, 5000)
    customer(s, "ben@x.io", metadata={"plan": "basic"})
    with FakeStripeServer(s) as server:
        yield server


@pytest.fixture
def admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"platform_key": SecretStr(TOKEN)})


@pytest.fixture
async def http(admin: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(admin, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test",
                                 headers=AUTH) as http:
        yield http


def name() -> str:
    return f"setup-{uuid.uuid4().hex[:8]}"


def workspace(settings: Settings, ws: str) -> Workspace:
    with db.session(settings.resolved_database_url) as session:
        return session.exec(select(Workspace).where(Workspace.name == ws)).one()


async def test_connect_pick_dry_run_save_sync_and_history(
    http: httpx.AsyncClient, admin: Settings, fake: FakeStripeServer, workers: None,
    client: Client,
) -> None:
    ws = name()
    bad = await http.post(f"/api/workspaces/{ws}/stripe/connect",
                          json={"api_key": "sk_test_wrong"})
    assert bad.status_code == 422 and "Stripe rejected the key" in bad.json()["error"]["message"]
    ok = await http.post(f"/api/workspaces/{ws}/stripe/connect",
                         json={"api_key": KEY})
    assert ok.json() == {"connected": True, "mode": "test"}
    import_emails(admin, workspace(admin, ws), ["ann@x.io", "ben@x.io"])

    products = (await http.get(f"/api/workspaces/{ws}/stripe/products")).json()
    assert [p["id"] for p in products["products"]] == ["prod_basic", "prod_gold"]
    assert products["requests"] == 1
    suggested = (await http.get(f"/api/workspaces/{ws}/stripe/metadata-suggestions")).json()
    assert suggested["requests"] == 2
    assert [(s["key"], s["filled"], s["sampled"]) for s in suggested["suggestions"]] == [
        ("plan", 2, 2), ("company", 1, 2)]

    dry = (await http.post(f"/api/workspaces/{ws}/stripe/dry-run", json={})).json()
    assert (dry["customers"], dry["would_sync"], dry["matching_subscribers"]) == (2, 1, 1)

    saved = await http.put(f"/api/workspaces/{ws}/stripe/options",
                           json={"metadata_keys": ["plan"]})
    assert saved.json()["next_step"] == "sync"  # never synced yet
    await client.get_workflow_handle(saved.json()["workflow_id"]).result(follow_runs=True)
    progress = (await http.get(f"/api/workspaces/{ws}/stripe/sync")).json()
    assert progress["status"] == "completed"

    changed = await http.put(f"/api/workspaces/{ws}/stripe/options",
                             json={"metadata_keys": ["plan", "company"]})
    assert changed.json()["next_step"] == "rederive"
    await client.get_workflow_handle(changed.json()["workflow_id"]).result()
    runs = (await http.get(f"/api/workspaces/{ws}/stripe/history")).json()["runs"]
    assert [r["status"] for r in runs] == ["completed"]

    gone = (await http.post(f"/api/workspaces/{ws}/stripe/disconnect")).json()
    assert gone == {"endpoint_deleted": False, "sync_cancelled": False,
                    "deauthorized": False}  # its own key: no Connect grant
    assert (await http.get(f"/api/workspaces/{ws}")).status_code == 404  # no such route
    shown = (await http.get(f"/api/workspaces/{ws}/stripe")).json()
    assert shown["connected"] is False and shown["metadata_keys"] == ["plan", "company"]


async def test_mrr_status_policy_re_derives_from_the_mirror_without_stripe(
    http: httpx.AsyncClient, admin: Settings, workers: None, client: Client,
    fake: FakeStripeServer,
) -> None:
    s = fake.state.add_connected_account(api_keys=[CY_KEY])  # cy's account alone
    cy = customer(s, "cy@x.io")
    charge(s, cy, 2000)
    subscription(s, cy, "active", monthly(s, 1500))    # 15.00 a month
    subscription(s, cy, "past_due", monthly(s, 4000))  # 40.00 a month
    subscription(s, cy, "trialing", monthly(s, 900))   # 9.00 a month
    ws = name()
    connect_workspace(admin, ws, key=CY_KEY)
    import_emails(admin, workspace(admin, ws), ["cy@x.io"])
    first = await http.put(f"/api/workspaces/{ws}/stripe/options",
                           json={"metadata_keys": []})
    await client.get_workflow_handle(first.json()["workflow_id"]).result(follow_runs=True)
    row = workspace(admin, ws)
    assert synced_values(admin, row)["cy@x.io"][0] == money("24.00")  # active + trialing
    fake.state.log.clear()

    changed = await http.put(f"/api/workspaces/{ws}/stripe/options",
                             json={"mrr_statuses": ["PAST_DUE", "active", "active"]})
    assert changed.json()["next_step"] == "rederive"
    await client.get_workflow_handle(changed.json()["workflow_id"]).result()
    assert synced_values(admin, row)["cy@x.io"][0] == money("55.00")  # Stripe Billing's
    assert fake.state.log.entries() == []  # from the mirror alone
    shown = (await http.get(f"/api/workspaces/{ws}/stripe")).json()
    assert shown["mrr_statuses"] == ["active", "past_due"]
    same = await http.put(f"/api/workspaces/{ws}/stripe/options",
                          json={"mrr_statuses": ["past_due", "active"]})
    assert same.json()["next_step"] == "nothing"


@pytest.mark.parametrize("values, message", [
    ({"mrr_statuses": []}, "MRR counts at least one subscription status"),
    ({"mrr_statuses": ["active", "canceled"]}, "not canceled"),
    ({"mrr_statuses": "active"}, "mrr_statuses"),
    ({"mrr_statuses": [3]}, "mrr_statuses"),
    ({"products": ["prod_nope"]}, "unknown product ids: prod_nope"),
    ({"products": ["shoes"]}, "not Stripe product ids: shoes"),
    ({"products": ["prod_gold"], "watch_products": ["prod_basic"]},
     "not synced: prod_basic"),
    ({"metadata_keys": [""]}, "metadata keys are 1-40 characters"),
    ({"sync_without_payment": "maybe"}, "sync_without_payment"),
])
async def test_bad_options_are_refused_and_nothing_is_saved(
    http: httpx.AsyncClient, admin: Settings, fake: FakeStripeServer,
    values: dict[str, Any], message: str,
) -> None:
    ws = name()
    connect_workspace(admin, ws, metadata_keys=["plan"])
    response = await http.put(f"/api/workspaces/{ws}/stripe/options", json=values)
    assert response.status_code == 422 and message in response.json()["error"]["message"]
    row = workspace(admin, ws)
    assert (row.products, row.metadata_keys, row.sync_without_payment, row.mrr_statuses) == (
        [], ["plan"], False, ["active", "trialing"])


async def test_removing_a_synced_product_removes_it_from_watch(
    http: httpx.AsyncClient, admin: Settings, fake: FakeStripeServer,
) -> None:
    ws = name()
    connect_workspace(admin, ws, products=["prod_gold", "prod_basic"],
                      watch_products=["prod_gold", "prod_basic"])
    response = await http.put(f"/api/workspaces/{ws}/stripe/options",
                              json={"products": ["prod_basic"]})
    assert response.json()["removed_from_watch"] == ["prod_gold"]
    assert workspace(admin, ws).watch_products == ["prod_basic"]


async def test_auth_and_scoping(admin: Settings, settings: Settings, client: Client,
                                http: httpx.AsyncClient, fake: FakeStripeServer) -> None:
    ws = name()
    connect_workspace(admin, ws)
    transport = httpx.ASGITransport(app=create_app(admin, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as anon:
        assert (await anon.get(f"/api/workspaces/{ws}/stripe")).status_code == 401
        wrong = await anon.get(f"/api/workspaces/{ws}/stripe",
                               headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    closed = httpx.ASGITransport(app=create_app(settings, client))  # no token configured
    async with httpx.AsyncClient(transport=closed, base_url="http://app.test",
                                 headers=AUTH) as other:
        assert (await other.get(f"/api/workspaces/{ws}/stripe")).status_code == 503
    missing = await http.get("/api/workspaces/nobody/stripe/products")
    assert missing.status_code == 404 and "unknown workspace" in missing.text
    not_json = await http.put(f"/api/workspaces/{ws}/stripe/options", content=b"{oops")
    assert not_json.status_code == 400


@pytest.mark.parametrize(("method", "route"), [
    ("get", "products"), ("get", "metadata-suggestions"), ("post", "dry-run"),
    ("put", "options"), ("post", "sync"),
])
async def test_what_needs_stripe_is_refused_at_once_before_connecting(
    settings: Settings, http: httpx.AsyncClient, method: str, route: str
) -> None:
    ws = name()
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, ws)
    answer = await http.request(method.upper(), f"/api/workspaces/{ws}/stripe/{route}",
                                json={} if method != "get" else None)
    assert answer.status_code == 409, answer.text
    assert answer.json() == {"error": {"message": f"workspace {ws!r} is not connected to "
                                                  "Stripe"}}
