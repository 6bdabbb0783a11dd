"""The subscribers API end to end, over HTTP against `create_app`, with a real Temporal dev
server and the fake Stripe server: subscribers in (one, a batch, re-addressed, removed,
unsubscribed, engagement events) and values out (one, a segment's pages, the schema).

A subscriber added after the first sync is derived from the mirror at once, with no
Stripe request, and its first values fire no automation; later changes fire as usual.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import col, func, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from fake_stripe import FakeStripeServer
from revsync.automations import rule_store
from revsync.automations.definitions import rule_automation
from revsync.automations.types import automation_workflow_id
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import (
    EmailEvent,
    IdempotencyKey,
    OutboxMessage,
    Subscriber,
    SubscriberTransition,
    Workspace,
)
from revsync.subscribers import csv_import
from tests.helpers.e2e import (
    connect_workspace,
    default_rule_workflow_id,
    import_emails,
    sync,
)
from tests.helpers.stripe_objects import pays_monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, webhook_client
from tests.web.test_api_errors import AUTH, TOKEN, refusal

pytestmark = pytest.mark.usefixtures("workers")

STRIPE_TAGS = [{"tag": "customer", "source": "stripe"},
               {"tag": "saas.monthly", "source": "stripe"}]


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    with_token = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with webhook_client(with_token, client) as http:
        http.headers.update(AUTH)
        yield http


async def synced(client: Client, settings: Settings, fake: FakeStripeServer) -> Workspace:
    """A workspace after its first full sync, with only ben imported before it."""
    workspace = connect_workspace(settings, f"shop-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET])
    import_emails(settings, workspace, ["ben@example.com"])
    await sync(client, settings, workspace)
    return workspace


def welcome_rule(settings: Settings, workspace: Workspace) -> int:
    """A rule that would start for a subscriber gaining `customer`."""
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        row = rule_store.create(settings, session, workspace.id, {
            "name": "welcome", "trigger": {"kind": "tag_added", "tag": "customer"},
            "action": {"kind": "sequence", "steps": [{"template": "thank_you"}]}})
    assert row.id is not None
    return row.id


async def workflow_exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def signalled(handle: WorkflowHandle[Any, Any], text: bytes) -> bool:
    """Whether the workflow received a signal whose payload has `text` (a stop: the
    sequence ends; the workflow then idles a while for another start)."""
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_signaled_event_attributes"):
            signal = event.workflow_execution_signaled_event_attributes
            if text in signal.input.payloads[0].data:
                return True
    return False


def rows(settings: Settings, model: Any, *where: Any) -> list[Any]:
    with db.session(settings.resolved_database_url) as session:
        return list(session.exec(select(model).where(*where)).all())


def fired(settings: Settings, subscriber_id: int) -> list[SubscriberTransition]:
    """The subscriber's transitions that fire automations (silent ones do not)."""
    return rows(settings, SubscriberTransition, SubscriberTransition.subscriber_id == subscriber_id,
                col(SubscriberTransition.silent).is_(False))


def count(settings: Settings, model: Any) -> int:
    with db.session(settings.resolved_database_url) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def values(record: dict[str, Any]) -> tuple[Any, ...]:
    return record["mrr"], record["ltv"], record["tags"]


async def test_a_subscriber_added_after_the_first_sync_is_derived_at_once_silently(
    client: Client, settings: Settings, fake: FakeStripeServer, http: httpx.AsyncClient
) -> None:
    s = fake.state
    # ann: $30/month, paid twice -> 30.00 / 60.00; cat: $10/month, paid once -> 10.00 / 10.00.
    pays_monthly(s, "ann@example.com", 3000, payments=2)
    cat_sub = pays_monthly(s, "cat@example.com", 1000, payments=1)
    workspace = await synced(client, settings, fake)
    rule_id = welcome_rule(settings, workspace)
    requests = s.log.count()
    base = f"/api/workspaces/{workspace.name}/subscribers"

    response = await http.post(base, json={"email": "Ann@Example.com", "external_id": "crm-1",
                                           "attributes": {"plan": "gold"}})
    assert response.status_code == 201, response.text
    ann = response.json()["subscriber"]
    assert response.json()["status"] == "created"
    assert values(ann) == ("30.00", "60.00", STRIPE_TAGS)
    assert (ann["email"], ann["external_id"], ann["attributes"]) == (
        "Ann@Example.com", "crm-1", {"plan": "gold"})
    assert ann["version"] == 1 and None not in ann["changed_at"].values()
    assert ann["engagement"] == {"opened_emails_last_30_days": 0,
                                 "clicked_emails_last_30_days": 0}
    assert s.log.count() == requests  # from the mirror: no Stripe request
    assert (await http.get(f"{base}/by-email/ann@example.com")).json() == ann
    assert (await http.get(f"{base}/by-external-id/crm-1")).json() == ann

    # A new address is re-matched at once: cat's values replace ann's.
    response = await http.patch(f"{base}/by-external-id/crm-1",
                                json={"email": "cat@example.com", "attributes": {"n": "1"}})
    assert response.status_code == 200, response.text
    moved = response.json()["subscriber"]
    assert values(moved) == ("10.00", "10.00", STRIPE_TAGS)
    assert (moved["email"], moved["attributes"], moved["version"]) == (
        "cat@example.com", {"plan": "gold", "n": "1"}, 2)
    assert (await http.get(f"{base}/by-email/ann@example.com")).status_code == 404
    assert s.log.count() == requests

    # Neither the first match nor the new address fired anything.
    sid = ann["id"]
    assert fired(settings, sid) == []
    assert [r.silent for r in rows(settings, SubscriberTransition,
                                   SubscriberTransition.subscriber_id == sid)] == [True, True]
    assert rows(settings, OutboxMessage, OutboxMessage.workspace_id == workspace.id) == []
    assert not await workflow_exists(client, automation_workflow_id(
        workspace.name, rule_automation(rule_id), sid))

    # A later change in Stripe is a transition, handed to the automations as usual.
    log = EventLog(s)
    s.cancel_subscription(cat_sub)
    async with webhook_client(settings, client) as hooks:
        await deliver(hooks, client, workspace.name, log.since(0))
    [churn] = fired(settings, sid)
    assert (churn.tags_added, churn.dispatched_at is not None) == (["churned"], True)
    after = (await http.get(f"{base}/by-email/cat@example.com")).json()
    assert after["version"] == 3 and after["tags"] == [{"tag": "churned", "source": "stripe"}]

    # The churn started the win-back sequence; an unsubscribe over the API stops it.
    win_back = client.get_workflow_handle(default_rule_workflow_id(
        settings, workspace, "win_back", sid))
    assert (await win_back.describe()).status == WorkflowExecutionStatus.RUNNING
    response = await http.post(f"{base}/by-email/cat@example.com/unsubscribe")
    assert response.json() == {"unsubscribed": True}
    assert await signalled(win_back, b"unsubscribed")
    # Removed with everything that names it.
    assert (await http.delete(f"{base}/by-external-id/crm-1")).status_code == 204
    assert rows(settings, SubscriberTransition, SubscriberTransition.subscriber_id == sid) == []
    assert rows(settings, Subscriber, Subscriber.id == sid) == []


async def test_a_csv_import_after_the_first_sync_is_derived_at_once_silently(
    client: Client, settings: Settings, fake: FakeStripeServer, http: httpx.AsyncClient
) -> None:
    pays_monthly(fake.state, "ann@example.com", 3000, payments=2)
    workspace = await synced(client, settings, fake)
    requests = fake.state.log.count()
    assert workspace.id is not None
    with db.locked_session(settings.resolved_database_url) as session:
        result = csv_import.import_rows(session, workspace.id, [(2, {"email": "ann@example.com"})])
    assert result.created == 1
    ann = (await http.get(f"/api/workspaces/{workspace.name}/subscribers/by-email/"
                          "ann@example.com")).json()
    assert values(ann) == ("30.00", "60.00", STRIPE_TAGS)
    assert fake.state.log.count() == requests
    assert fired(settings, ann["id"]) == []


def _recent() -> str:
    """A day ago: within the last 30 days."""
    return (datetime.now(UTC) - timedelta(days=1)).isoformat()


def workspace_named(settings: Settings) -> str:
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, "shop")
    return "/api/workspaces/shop/subscribers"


async def test_a_batch_answers_per_item_and_a_repeated_key_replays(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    base = workspace_named(settings)
    items = [{"email": "ann@example.com", "external_id": "e1"},
             {"email": "not an address"},
             {"email": "ANN@example.com"},
             {"email": "bob@example.com", "external_id": "e1"},
             {"email": "cat@example.com", "attributes": {"plan": "gold"}}]
    key = {"Idempotency-Key": "batch-1"}
    first = await http.post(f"{base}/batch", json={"subscribers": items}, headers=key)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"), (1, "refused"), (2, "refused"), (3, "refused"), (4, "created")]
    assert [r.get("reason") for r in results[1:4]] == [
        "not an email address: 'not an address'",
        "duplicate email in the batch: the same as item 0",
        "duplicate external_id in the batch: the same as item 0"]
    assert count(settings, Subscriber) == 2

    # The same key and body: the stored answer, nothing done again.
    again = await http.post(f"{base}/batch", json={"subscribers": items}, headers=key)
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    # The same key, another body: refused, nothing stored.
    other = await http.post(f"{base}/batch", json={"subscribers": items[:1]}, headers=key)
    assert refusal(other)[0] == 422 and "another request body" in refusal(other)[1]
    assert count(settings, IdempotencyKey) == 1

    # Without a key: updated, unchanged, and an external id another subscriber holds.
    response = await http.post(f"{base}/batch", json={"subscribers": [
        {"email": "cat@example.com", "attributes": {"plan": "gold", "seats": "3"}},
        {"email": "ann@example.com", "external_id": "e1"}]})
    assert [r["status"] for r in response.json()["results"]] == ["updated", "unchanged"]
    response = await http.post(f"{base}/batch", json={"subscribers": [
        {"email": "dan@example.com", "external_id": "e1"}]})
    assert response.json()["results"] == [
        {"index": 0, "status": "refused", "reason": "external_id taken by another subscriber"}]
    taken = await http.post(base, json={"email": "dan@example.com", "external_id": "e1"})
    assert refusal(taken) == (409, "external_id taken by another subscriber")
    patch = await http.patch(f"{base}/by-email/cat@example.com", json={"external_id": "e1"})
    assert refusal(patch) == (409, "external_id taken by another subscriber")
    cat = (await http.get(f"{base}/by-email/cat@example.com")).json()
    assert (cat["external_id"], cat["attributes"]) == (None, {"plan": "gold", "seats": "3"})
    assert count(settings, Subscriber) == 2


async def test_malformed_input_is_refused_in_the_shared_shape_and_stores_nothing(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    base = workspace_named(settings)
    over = {"subscribers": [{"email": f"u{i}@example.com"} for i in range(1001)]}
    for method, path, body in [
        ("POST", base, {"email": "ann@@example.com"}),
        ("POST", base, {"email": "ann@example.com", "plan": "gold"}),
        ("POST", base, {"email": "ann@example.com", "attributes": {"n": 1}}),
        ("POST", base, {"email": "ann@example.com", "external_id": " padded"}),
        ("POST", f"{base}/batch", over),
        ("POST", f"{base}/batch", {"subscribers": []}),
        ("POST", f"{base}/batch", {"subscribers": [{"email": "a@example.com", "x": 1}]}),
        ("POST", f"{base}/events", {"events": [{"event_id": "1", "kind": "open",
                                                "occurred_at": "2026-12-01T00:00:00Z"}]}),
        ("POST", f"{base}/events", {"events": [{"event_id": "1", "kind": "bounce",
                                                "email": "a@example.com",
                                                "occurred_at": "2026-12-01T00:00:00Z"}]}),
    ]:
        response = await http.request(method, path, json=body)
        assert refusal(response)[0] == 422, (path, body, response.text)
    bad_key = await http.post(f"{base}/batch", json={"subscribers": [{"email": "a@x.test"}]},
                              headers={"Idempotency-Key": "a key"})
    assert refusal(bad_key)[0] == 422
    for query in ("after=abc", "after=-1", "limit=0", "limit=1001", "limit=1.5"):
        assert refusal(await http.get(f"{base}?{query}"))[0] == 422, query
    response = await http.get(base, params={"segment": "mrr >"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert set(error) == {"message", "position", "found", "expected"} and error["position"] == 6
    assert refusal(await http.get(f"{base}/by-email/nobody@example.com"))[0] == 404
    assert refusal(await http.delete(f"{base}/by-external-id/nobody"))[0] == 404
    assert (count(settings, Subscriber), count(settings, EmailEvent),
            count(settings, IdempotencyKey)) == (0, 0, 0)


async def test_pages_of_a_segment_cover_its_members_exactly_once(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    base = workspace_named(settings)
    emails = [f"u{i:02}@example.com" for i in range(23)]
    response = await http.post(f"{base}/batch", json={"subscribers": [
        {"email": e, "external_id": f"x{i}"} for i, e in enumerate(emails)]})
    assert {r["status"] for r in response.json()["results"]} == {"created"}
    opened = emails[::3]
    # The first one's open is in the future: outside the last 30 days.
    events = [{"event_id": f"ev-{e}", "email": e, "kind": "open",
               "occurred_at": "2999-01-01T00:00:00Z" if e == emails[0] else _recent()}
              for e in opened]
    assert (await http.post(f"{base}/events", json={"events": events})).status_code == 200

    async def walk(segment: str | None, limit: int) -> list[str]:
        seen: list[str] = []
        after = 0
        while True:
            params: dict[str, Any] = {"after": after, "limit": limit}
            if segment is not None:
                params["segment"] = segment
            page = (await http.get(base, params=params)).json()
            seen += [s["email"] for s in page["subscribers"]]
            if page["next_after"] is None:
                return seen
            after = page["next_after"]

    assert await walk(None, 4) == emails
    assert await walk(None, 23) == emails
    members = await walk("opened_emails_last_30_days > 0", 2)
    assert members == opened[1:]
    assert await walk("opened_emails_last_30_days = 0", 5) == [
        e for e in emails if e not in opened[1:]]


async def test_engagement_events_are_stored_once_per_id(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    base = workspace_named(settings)
    await http.post(base, json={"email": "ann@example.com", "external_id": "a1"})
    events = [{"event_id": "o1", "email": "ANN@example.com", "kind": "open",
               "occurred_at": _recent()},
              {"event_id": "c1", "external_id": "a1", "kind": "click",
               "occurred_at": _recent()},
              {"event_id": "o1", "email": "ann@example.com", "kind": "open",
               "occurred_at": _recent()},
              {"event_id": "o2", "email": "nobody@example.com", "kind": "open",
               "occurred_at": _recent()}]
    first = await http.post(f"{base}/events", json={"events": events})
    assert [r["status"] for r in first.json()["results"]] == [
        "recorded", "recorded", "duplicate", "unknown_subscriber"]
    again = await http.post(f"{base}/events", json={"events": events[:2]})
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    ann = (await http.get(f"{base}/by-external-id/a1")).json()
    assert ann["engagement"] == {"opened_emails_last_30_days": 1,
                                 "clicked_emails_last_30_days": 1}
    assert count(settings, EmailEvent) == 2


async def test_remove_unsubscribe_and_the_schema(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    base = workspace_named(settings)
    with db.session(settings.resolved_database_url) as session:
        shop = workspaces.by_name(session, "shop")
        shop.metadata_keys = ["plan", "email"]
        session.add(shop)
        session.commit()
    await http.post(f"{base}/batch", json={"subscribers": [
        {"email": "ann@example.com", "external_id": "a1"}, {"email": "bob@example.com"}]})
    await http.post(f"{base}/events", json={"events": [
        {"event_id": "o1", "email": "bob@example.com", "kind": "open",
         "occurred_at": _recent()}]})
    response = await http.post(f"{base}/by-external-id/a1/unsubscribe")
    assert response.json() == {"unsubscribed": True}
    assert (await http.get(f"{base}/by-email/ann@example.com")).json()["unsubscribed"] is True
    assert (await http.delete(f"{base}/by-email/bob@example.com")).status_code == 204
    assert (await http.get(f"{base}/by-email/bob@example.com")).status_code == 404
    assert (count(settings, Subscriber), count(settings, EmailEvent)) == (1, 0)

    fields = (await http.get(f"{base}/schema")).json()["fields"]
    names = [f["name"] for f in fields]
    assert names[:3] == ["email", "external_id", "attributes"]
    assert {"mrr", "ltv", "tags", "engagement.opened_emails_last_30_days",
            "metadata.plan", "metadata.stripe_email", "version"} <= set(names)
    assert {f["name"] for f in fields if f["writable"]} == {"email", "external_id",
                                                           "attributes"}
    assert rows(settings, Subscriber, col(Subscriber.email_norm) == "ann@example.com")


async def test_concurrent_batches_of_the_same_subscribers_both_answer(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    """Two requests creating the same subscribers at once: one creates them; the other
    (on PostgreSQL, after losing the race on the unique email and running again) finds
    them. The same Idempotency-Key sent twice at once does the work once."""
    base = workspace_named(settings)
    body = {"subscribers": [{"email": f"u{i}@example.com", "external_id": f"x{i}"}
                            for i in range(50)]}
    first, second = await asyncio.gather(http.post(f"{base}/batch", json=body),
                                         http.post(f"{base}/batch", json=body))
    statuses = sorted({r["status"] for r in first.json()["results"]} |
                      {r["status"] for r in second.json()["results"]})
    assert (first.status_code, second.status_code, statuses) == (200, 200,
                                                                 ["created", "unchanged"])
    keyed = {"subscribers": [{"email": f"k{i}@example.com"} for i in range(50)]}
    key = {"Idempotency-Key": "together"}
    first, second = await asyncio.gather(
        http.post(f"{base}/batch", json=keyed, headers=key),
        http.post(f"{base}/batch", json=keyed, headers=key))
    assert first.json() == second.json()
    assert {r["status"] for r in first.json()["results"]} == {"created"}
    assert count(settings, Subscriber) == 100 and count(settings, IdempotencyKey) == 1
