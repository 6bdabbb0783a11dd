"""Property: any history of Stripe changes, delivered duplicated, shuffled and concurrently,
with every change in the same second, ends where a full sync of the final state ends,
and each subscriber's recorded transitions chain without a gap or a repeat.

Real event workflows on the dev server, fake Stripe over HTTP, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import col, select
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace
from tests.helpers.e2e import KEY, connect_workspace, import_emails, sync, synced_values
from tests.helpers.oracle import expected_state
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, post_event, webhook_client

pytestmark = pytest.mark.usefixtures("workers")

EMAILS = ["ann@example.com", "ben@example.com", "cat@example.com"]
STATUSES = ["active", "trialing", "past_due", "canceled", "unpaid"]
NOW = 1_790_000_000  # every change happens in this one second: `created` ties everywhere

change = st.one_of(
    st.tuples(st.just("status"), st.integers(0, 3), st.sampled_from(STATUSES)),
    st.tuples(st.just("cancel_at_period_end"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("pay"), st.integers(0, 3), st.integers(1, 500)),
    st.tuples(st.just("refund"), st.integers(0, 3), st.integers(1, 100)),
    st.tuples(st.just("email"), st.integers(0, 3), st.sampled_from([*EMAILS, "zoe@example.com"])),
    st.tuples(st.just("delete"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("subscribe"), st.integers(0, 3), st.integers(1, 90)),
)


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    """One server for every example: each example reads an account of its own on it."""
    with FakeStripeServer(FakeStripe(api_keys=[KEY], clock=lambda: NOW)) as server:
        yield server


def seed(fake: FakeStripe) -> list[dict[str, Any]]:
    """Four customers (two share ann's email), each with a paid $10-$40 monthly plan."""
    customers = []
    for n, email in enumerate([EMAILS[0], EMAILS[0].upper(), EMAILS[1], EMAILS[2]]):
        cus = customer(fake, email)
        sub = fake.put("subscription", {"customer": cus, "status": "active", "items": {
            "data": [{"price": monthly(fake, 1000 * (n + 1))}]}})["id"]
        customers.append({"id": cus, "subs": [sub], "charges": [charge(fake, cus, 1000)]})
    return customers


def apply_change(
    fake: FakeStripe, customers: list[dict[str, Any]], step: tuple[str, int, Any]
) -> None:
    kind, index, value = step
    target = customers[index]
    if target.get("deleted"):
        return
    sub = target["subs"][-1]
    if kind == "status":
        current = fake.retrieve("subscription", sub)["status"]
        if current not in ("canceled",):  # Stripe cannot revive a canceled subscription
            fields = {"status": value}
            if value == "canceled":
                fields.update(canceled_at=NOW, ended_at=NOW)
            fake.update("subscription", sub, fields)
    elif kind == "cancel_at_period_end":
        if fake.retrieve("subscription", sub)["status"] != "canceled":
            fake.update("subscription", sub, {"cancel_at_period_end": value})
    elif kind == "pay":
        target["charges"].append(charge(fake, target["id"], value * 100))
    elif kind == "refund":
        paid = fake.retrieve("charge", target["charges"][-1])
        left = paid["amount_captured"] - paid["amount_refunded"]
        if left > 0:
            fake.refund(paid["id"], max(1, left * value // 100))
    elif kind == "email":
        fake.update("customer", target["id"], {"email": value})
    elif kind == "delete":
        fake.delete("customer", target["id"])
        target["deleted"] = True
    elif kind == "subscribe":
        target["subs"].append(fake.put("subscription", {
            "customer": target["id"], "status": "active",
            "items": {"data": [{"price": monthly(fake, value * 100)}]}})["id"])


def transitions(settings: Settings, workspace: Workspace) -> dict[int, list[SubscriberTransition]]:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(
            select(SubscriberTransition)
            .where(SubscriberTransition.workspace_id == workspace.id,
                   col(SubscriberTransition.silent).is_(False))
            .order_by(col(SubscriberTransition.id))
        ).all()
    chains: dict[int, list[SubscriberTransition]] = {}
    for row in rows:
        chains.setdefault(row.subscriber_id, []).append(row)
    return chains


def subscribers_by_id(settings: Settings, workspace: Workspace) -> dict[int, Subscriber]:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(select(Subscriber).where(Subscriber.workspace_id == workspace.id))
        return {row.id: row for row in rows if row.id is not None}


@hypothesis_settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(change, min_size=1, max_size=8), order=st.randoms(use_true_random=False))
async def test_any_delivery_order_ends_in_the_full_sync_state(
    client: Client, settings: Settings, fake: FakeStripeServer,
    history: list[tuple[str, int, Any]], order: random.Random,
) -> None:
    key = f"sk_test_prop{uuid.uuid4().hex[:8]}"
    account = fake.state.add_connected_account(api_keys=[key])  # this example's own
    customers = seed(account)
    name = f"prop-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, name, key=key, webhook_secrets=[SECRET])
    import_emails(settings, workspace, EMAILS)
    await sync(client, settings, workspace)
    before = subscribers_by_id(settings, workspace)
    tags_before = synced_values(settings, workspace)
    log = EventLog(account)
    for step in history:
        apply_change(account, customers, step)
    events = log.since(0)
    # Every event once, a random third of them again, all shuffled; sent in
    # concurrent bursts so duplicates and same-customer events overlap.
    deliveries = events + [e for e in events if order.random() < 0.34]
    order.shuffle(deliveries)
    async with webhook_client(settings, client) as http:
        ids: set[str] = set()
        for start in range(0, len(deliveries), 4):
            responses = await asyncio.gather(
                *(post_event(http, name, e) for e in deliveries[start:start + 4]))
            assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
            ids |= {r.json()["workflow_id"] for r in responses if "workflow_id" in r.json()}
        for workflow_id in ids:
            await client.get_workflow_handle(workflow_id).result()

    expected = expected_state(account, EMAILS, RevenuePolicy(), NOW)
    live = synced_values(settings, workspace)
    assert live == expected
    await sync(client, settings, workspace)  # a fresh full sync of the final state
    assert synced_values(settings, workspace) == live
    after = subscribers_by_id(settings, workspace)
    for subscriber_id, chain in transitions(settings, workspace).items():
        email = before[subscriber_id].email_norm
        mrr, ltv, tags = before[subscriber_id].mrr, before[subscriber_id].ltv, set(
            tags_before[email][2])
        for row in chain:  # each starts where the previous one ended: none seen twice
            assert (row.mrr_before, row.ltv_before) == (mrr, ltv)
            assert not set(row.tags_added) & tags and set(row.tags_removed) <= tags
            assert row.tags_added or row.tags_removed or (row.mrr_after, row.ltv_after) != (
                mrr, ltv)
            mrr, ltv = row.mrr_after, row.ltv_after
            tags = (tags - set(row.tags_removed)) | set(row.tags_added)
            assert row.tags_after == sorted(tags)  # what it holds after this one
        assert (mrr, ltv, sorted(tags)) == (
            after[subscriber_id].mrr, after[subscriber_id].ltv, live[email][2])
