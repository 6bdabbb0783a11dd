"""Nested lists past the 10 entries Stripe embeds: a subscription's items and an invoice's
lines are read to their end, in the full sync and in a webhook's refetch, each extra page
counted and part of the minimum. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal as D
from typing import Any

import pytest
from sqlmodel import select
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import StripeSubscription, Workspace
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport
from tests.helpers.e2e import connect_workspace, import_emails, last_run, state, sync
from tests.helpers.kill import kill_and_finish, worker_process
from tests.helpers.oracle import expected_state
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, webhook_client

ITEMS = "GET /v1/subscription_items"


def dollars_a_month(s: FakeStripe, *dollars: int) -> list[dict[str, Any]]:
    """One item per amount, each its own monthly price."""
    return [{"price": monthly(s, 100 * amount)} for amount in dollars]


def data_requests(settings: Settings, workspace: Workspace) -> tuple[int, int]:
    """The last run's requests outside the catalogues, and its minimum."""
    run = last_run(settings, workspace)
    return run.requests - run.counts["catalogue_requests"], run.min_requests


@pytest.mark.usefixtures("workers")
async def test_every_item_of_a_twelve_item_subscription_counts_in_sync_and_webhook(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    sub = s.put("subscription", {"customer": ann, "status": "active",
                                 "items": {"data": dollars_a_month(s, *range(1, 13))}})["id"]
    charge(s, ann, 7800)
    workspace = connect_workspace(settings, f"items-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET])
    import_emails(settings, workspace, ["ann@example.com"])
    await sync(client, settings, workspace)

    # $1 + $2 + ... + $12 a month = $78.00 (the ten Stripe embeds alone: $55.00).
    assert state(settings, workspace)["ann@example.com"][:3] == (
        D("78.00"), D("78.00"), ["customer", "saas.monthly"])
    # One more page for the two items past the tenth; the minimum counts it too:
    # customers, subscriptions, that page, charges.
    assert s.log.count(ITEMS) == 1
    assert last_run(settings, workspace).counts["nested_pages"] == 1
    assert data_requests(settings, workspace) == (4, 4)

    log = EventLog(s)
    s.update("subscription", sub, {"items": {"data": dollars_a_month(s, *range(1, 14))}})
    async with webhook_client(settings, client) as http:
        [result] = await deliver(http, client, workspace.name, log.since(0))
    # A 13th item at $13: $91.00. The refetch read the three items past the tenth.
    assert result.outcome == "applied"
    assert result.requests == 2
    assert s.log.count(ITEMS) == 2
    assert state(settings, workspace)["ann@example.com"][:3] == (
        D("91.00"), D("78.00"), ["customer", "saas.monthly"])


def invoice_lines(s: FakeStripe, selected_line: int, lines: int) -> dict[str, Any]:
    """`lines` $1 add-on lines, of which line number `selected_line` (from 1) is the
    $25 plan of the selected product."""
    data = []
    for number in range(1, lines + 1):
        product = "prod_plan" if number == selected_line else "prod_addon"
        data.append({"amount": 2500 if product == "prod_plan" else 100, "pricing": {
            "price_details": {"product": product, "price": f"price_{product}"}}})
    return {"data": data}


@pytest.mark.usefixtures("workers")
async def test_a_selected_product_on_an_invoices_eleventh_line_makes_its_payer_eligible(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    for product in ("prod_plan", "prod_addon"):
        s.put("product", {"id": product, "name": product})
    plan = s.put("price", {"unit_amount": 2500, "currency": "usd", "product": "prod_plan",
                           "recurring": {"interval": "month", "interval_count": 1,
                                         "usage_type": "licensed"}})["id"]
    invoices = {}
    for email in ("ann@example.com", "cat@example.com"):
        payer = customer(s, email)
        s.put("subscription", {"customer": payer, "status": "active",
                               "items": {"data": [{"price": plan}]}})
        charge(s, payer, 3500)
        invoices[email] = s.put("invoice", {
            "customer": payer, "status": "paid" if email == "ann@example.com" else "open",
            "amount_paid": 3500 if email == "ann@example.com" else 0, "amount_due": 3500,
            "lines": invoice_lines(s, selected_line=11, lines=11)})["id"]
    workspace = connect_workspace(settings, f"lines-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET], products=["prod_plan"])
    import_emails(settings, workspace, ["ann@example.com", "cat@example.com"])
    await sync(client, settings, workspace)

    # Ann paid for the plan on line 11: synced. Cat's invoice is open: not yet.
    values = state(settings, workspace)
    assert values["ann@example.com"][:3] == (D("25.00"), D("35.00"), ["customer",
                                                                       "saas.monthly"])
    assert values["cat@example.com"][:3] == (None, None, [])
    # The lines past the tenth of the paid invoice: one page, in the minimum.
    assert s.log.count("GET /v1/invoices/{id}/lines") == 1
    assert data_requests(settings, workspace) == (5, 5)

    log = EventLog(s)
    s.update("invoice", invoices["cat@example.com"], {"status": "paid", "amount_paid": 3500})
    async with webhook_client(settings, client) as http:
        await deliver(http, client, workspace.name, log.since(0))
    assert state(settings, workspace)["cat@example.com"][:3] == (
        D("25.00"), D("35.00"), ["customer", "saas.monthly"])


SUBSCRIBERS = 150
ITEMS_EACH = 25  # 10 embedded, 15 on one more page each


def many_items(s: FakeStripe) -> list[str]:
    """Subscribers' emails, each paying a subscription of many items, on a slow `s`."""
    prices = [monthly(s, 100 + n) for n in range(ITEMS_EACH)]
    emails = [f"p{n}@example.com" for n in range(SUBSCRIBERS)]
    for email in emails:
        payer = customer(s, email)
        s.put("subscription", {"customer": payer, "status": "active",
                               "items": {"data": [{"price": p} for p in prices]}})
        charge(s, payer, 1000)
    s.faults.set(latency_ms=40)
    return emails


async def test_a_kill_while_paging_nested_lists_resumes_with_nothing_missed_or_doubled(
    fake: FakeStripeServer, settings: Settings, client: Client
) -> None:
    server, emails = fake, many_items(fake.state)
    workspace = connect_workspace(settings, f"killed-{uuid.uuid4().hex[:8]}")
    import_emails(settings, workspace, emails)
    temporal = client.service_client.config.target_host
    first = worker_process(settings, temporal)
    handle = await start_sync(client, settings, workspace)

    # A page of subscriptions is committed only once all its items are read: kill after
    # a few of its item pages, before the page commits.
    for _ in range(1200):
        if server.state.log.count(ITEMS) >= 5:
            break
        await asyncio.sleep(0.025)
    else:
        pytest.fail("the sync never paged a subscription's items")
    report = await handle.query("progress", result_type=SyncReport)
    assert sum(st.pages for st in report.streams if st.name == "subscriptions") == 0
    result = await kill_and_finish(first, handle, settings, temporal)

    assert result.status == "completed"
    run = last_run(settings, workspace)
    now = int(run.started_at.timestamp())
    expected = expected_state(server.state, emails, RevenuePolicy(), now)
    assert {e: v[:3] for e, v in state(settings, workspace).items()} == expected
    # $1.00 + $1.01 + ... + $1.24 a month on every subscription: 25 x $1 + $3.00 = $28.00.
    assert {v[0] for v in expected.values()} == {D("28.00")}
    with db.session(settings.resolved_database_url) as session:
        stored = session.exec(select(StripeSubscription).where(
            StripeSubscription.workspace_id == workspace.id)).all()
    assert len(stored) == SUBSCRIBERS
    for row in stored:
        ids = [item["id"] for item in row.data["items"]["data"]]
        assert len(ids) == len(set(ids)) == ITEMS_EACH
    # Every subscription needed one page past its tenth item, counted once whatever the
    # kill re-read, and part of the minimum.
    assert sum(st.nested_pages for st in result.streams) == SUBSCRIBERS
    assert run.min_requests >= SUBSCRIBERS
