"""Webhooks end to end: fake Stripe changes -> signed events -> event workflows -> subscribers.

Each test first runs a full sync of a small hand-built account, then changes Stripe
the way a customer or an operator would and delivers the events Stripe emitted.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from decimal import Decimal as D

import httpx
import orjson
import pytest
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Replayer

from fake_stripe import FakeStripe, FakeStripeServer, generate_account, subscriber_emails
from revsync.automations.types import WIN_BACK
from revsync.events import refetch
from revsync.events.apply import apply_event
from revsync.events.parsing import parse_event
from revsync.events.types import ApplyInput, EventResult, Target, event_workflow_id
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import StripeEvent, SubscriberTransition, Workspace
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport
from revsync.workflows.stripe_event import StripeEventWorkflow
from tests.helpers.e2e import (
    KEY,
    connect_workspace,
    default_rule_workflow_id,
    import_emails,
    last_run,
    state,
    sync,
    synced_values,
)
from tests.helpers.oracle import expected_state
from tests.helpers.stripe_objects import charge, customer, monthly, pays_monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, post_event, webhook_client

pytestmark = pytest.mark.usefixtures("workers")

EMAILS = ["ann@example.com", "ben@example.com", "cat@example.com"]


def transitions(settings: Settings, workspace: Workspace) -> list[tuple[str, list[str], list[str]]]:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(
            select(SubscriberTransition).where(SubscriberTransition.workspace_id == workspace.id,
                                               col(SubscriberTransition.silent).is_(False))
            .order_by(col(SubscriberTransition.id))
        ).all()
    return [(r.source_id, r.tags_added, r.tags_removed) for r in rows]


def ann_pays_monthly(s: FakeStripe, cents: int, payments: int = 1) -> str:
    """ann@example.com with an active subscription at `cents` a month, paid `payments`
    times; the subscription's id."""
    return pays_monthly(s, "ann@example.com", cents, payments)


async def synced(client: Client, settings: Settings, fake: FakeStripeServer) -> Workspace:
    """Workspace names are unique per test: event workflow ids (which include the name)
    live on the one dev server of the session, and the fake's event ids repeat."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, name, webhook_secrets=[SECRET])
    import_emails(settings, workspace, EMAILS)
    await sync(client, settings, workspace)
    return workspace


async def test_cancellation_churns_and_redelivery_changes_nothing(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    # $30/month active, paid $30 twice -> MRR 30.00, LTV 60.00, tags customer + saas.monthly.
    sub = ann_pays_monthly(s, 3000, payments=2)
    workspace = await synced(client, settings, fake)
    assert state(settings, workspace)["ann@example.com"][:3] == (
        D("30.00"), D("60.00"), ["customer", "saas.monthly"])

    log = EventLog(s)
    s.cancel_subscription(sub)
    events = log.since(0)
    assert [e["type"] for e in events] == ["customer.subscription.deleted"]
    async with webhook_client(settings, client) as http:
        [result] = await deliver(http, client, workspace.name, events)
        assert (result.outcome, result.subscribers, result.transitions) == ("applied", 1, 1)
        # Canceled: no MRR; LTV unchanged; `churned` replaces `customer` and `saas.monthly`.
        assert state(settings, workspace)["ann@example.com"][:3] == (
            D("0.00"), D("60.00"), ["churned"])
        again = await post_event(http, workspace.name, events[0])
        assert again.status_code == 200 and again.json()["duplicate"] is True
    assert transitions(settings, workspace) == [
        (events[0]["id"], ["churned"], ["customer", "saas.monthly"])]
    with db.session(settings.resolved_database_url) as session:
        recorded = session.exec(select(StripeEvent)).all()
    assert [(e.id, e.outcome, e.subscribers) for e in recorded] == [
        (events[0]["id"], "applied", 1)]


async def step(
    http: httpx.AsyncClient, client: Client, settings: Settings, workspace: Workspace,
    log: EventLog, change: Callable[[], object], email: str = "ann@example.com",
) -> tuple[D | None, D | None, list[str]]:
    """Make one change in Stripe, deliver what it emitted, return the subscriber's values.

    The events go one at a time, each applied before the next is posted, so the
    transitions they record do not depend on how two concurrent applies interleave
    (concurrent delivery has tests of its own)."""
    mark = log.mark()
    change()
    for event in log.since(mark):
        await deliver(http, client, workspace.name, [event])
    mrr, ltv, tags, _ = state(settings, workspace)[email]
    return mrr, ltv, tags


async def test_a_subscription_lifecycle_moves_mrr_ltv_and_tags(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    # A trial on $30/month, and a $10 setup fee paid: MRR 30.00 (trialing counts), LTV 10.00.
    sub = s.put("subscription", {"customer": ann, "status": "trialing",
                                 "items": {"data": [{"price": monthly(s, 3000)}]}})["id"]
    charge(s, ann, 1000)
    workspace = await synced(client, settings, fake)
    assert state(settings, workspace)["ann@example.com"][:3] == (
        D("30.00"), D("10.00"), ["saas.monthly", "trial"])
    log = EventLog(s)
    first_payment: list[str] = []

    def convert() -> None:  # trial ends: active, first $30 paid -> LTV 40.00
        s.update("subscription", sub, {"status": "active"})
        first_payment.append(charge(s, ann, 3000))

    def payment_fails() -> None:  # renewal fails: past_due, which MRR leaves out
        s.update("subscription", sub, {"status": "past_due"})
        charge(s, ann, 3000, status="failed")

    def recovers() -> None:  # the retry succeeds: active again, LTV 70.00
        s.update("subscription", sub, {"status": "active"})
        charge(s, ann, 3000)

    async with webhook_client(settings, client) as http:
        async def at(change: Callable[[], object]) -> tuple[D | None, D | None, list[str]]:
            return await step(http, client, settings, workspace, log, change)

        assert await at(convert) == (D("30.00"), D("40.00"), ["customer", "saas.monthly"])
        assert await at(payment_fails) == (
            D("0.00"), D("40.00"), ["customer", "past-due", "saas.monthly"])
        assert await at(recovers) == (D("30.00"), D("70.00"), ["customer", "saas.monthly"])
        cancel_later = lambda: s.update("subscription", sub, {"cancel_at_period_end": True})  # noqa: E731
        assert await at(cancel_later) == (
            D("30.00"), D("70.00"), ["cancelled", "customer", "saas.monthly"])
        keep = lambda: s.update("subscription", sub, {"cancel_at_period_end": False})  # noqa: E731
        assert await at(keep) == (D("30.00"), D("70.00"), ["customer", "saas.monthly"])
        # A partial refund of $10 of the first payment: LTV 60.00 ...
        refund: list[str] = []
        assert await at(lambda: refund.append(s.refund(first_payment[0], 1000)["id"])) == (
            D("30.00"), D("60.00"), ["customer", "saas.monthly"])
        # ... and the refund failing gives it back: 70.00.
        fail = lambda: s.update("refund", refund[0], {"status": "failed"})  # noqa: E731
        assert await at(fail) == (D("30.00"), D("70.00"), ["customer", "saas.monthly"])
        assert await at(lambda: s.cancel_subscription(sub)) == (D("0.00"), D("70.00"), ["churned"])
        # Reactivation: a new yearly subscription, $120/year = 10.00 a month.
        yearly = monthly(s, 12000, interval="year")
        resubscribe = lambda: s.put("subscription", {  # noqa: E731
            "customer": ann, "status": "active", "items": {"data": [{"price": yearly}]}})
        assert await at(resubscribe) == (D("10.00"), D("70.00"), ["customer", "saas.yearly"])
    # One transition per event that moved something, each observed once.
    kinds = {e["id"]: e["type"] for e in log.since(0)}
    moved = [(kinds[i], added, removed) for i, added, removed in transitions(settings, workspace)]
    assert moved == [
        ("customer.subscription.updated", ["customer"], ["trial"]),
        ("charge.succeeded", [], []),  # the first payment: LTV only
        ("customer.subscription.updated", ["past-due"], []),  # the failed charge moves nothing
        ("customer.subscription.updated", [], ["past-due"]),
        ("charge.succeeded", [], []),
        ("customer.subscription.updated", ["cancelled"], []),
        ("customer.subscription.updated", [], ["cancelled"]),
        ("refund.created", [], []),  # the refund: LTV only
        ("refund.failed", [], []),  # the failed refund: LTV only
        ("customer.subscription.deleted", ["churned"], ["customer", "saas.monthly"]),
        ("customer.subscription.created", ["customer", "saas.yearly"], ["churned"]),
    ]


async def test_an_email_change_moves_revenue_and_a_deletion_clears_it(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    cus = customer(s, "ann@example.com")
    # $50/month active, $50 paid.
    s.put("subscription", {"customer": cus, "status": "active",
                           "items": {"data": [{"price": monthly(s, 5000)}]}})
    charge(s, cus, 5000)
    workspace = await synced(client, settings, fake)
    log = EventLog(s)
    paying = (D("50.00"), D("50.00"), ["customer", "saas.monthly"])
    async with webhook_client(settings, client) as http:
        ann = await step(http, client, settings, workspace, log,
                         lambda: s.update("customer", cus, {"email": " BEN@example.com"}))
        assert ann == (None, None, [])
        assert state(settings, workspace)["ben@example.com"][:3] == paying
        ben = await step(http, client, settings, workspace, log,
                         lambda: s.delete("customer", cus), email="ben@example.com")
        assert ben == (None, None, [])
    assert {email: values[:3] for email, values in state(settings, workspace).items()} == {
        e: (None, None, []) for e in EMAILS}


async def test_events_delivered_late_and_reversed_end_in_the_current_state(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    """Payload order cannot be trusted: each event refetches, so old payloads write nothing old."""
    s = fake.state
    sub = ann_pays_monthly(s, 2000)
    workspace = await synced(client, settings, fake)
    log = EventLog(s)
    s.update("subscription", sub, {"status": "past_due"})
    s.update("subscription", sub, {"status": "active", "cancel_at_period_end": True})
    s.update("subscription", sub, {"items": {"data": [{"price": monthly(s, 4000)}]}})
    events = log.since(0)
    async with webhook_client(settings, client) as http:
        await deliver(http, client, workspace.name, list(reversed(events)))
    # Current state: active, $40/month, ending at period end.
    assert state(settings, workspace)["ann@example.com"][:3] == (
        D("40.00"), D("20.00"), ["cancelled", "customer", "saas.monthly"])


async def test_events_during_a_full_sync_are_neither_lost_nor_overwritten(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    account = generate_account(150, seed=5)
    s = fake.state
    s.load(account)
    emails = subscriber_emails(account, match_ratio=0.9, seed=5)
    name = f"busy-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, name, webhook_secrets=[SECRET])
    import_emails(settings, workspace, emails)
    s.faults.set(latency_ms=40)  # a slow Stripe keeps the sync listing meanwhile
    log = EventLog(s)
    handle = await start_sync(client, settings, workspace)
    for _ in range(1200):  # at most a minute, then fail rather than hang
        progress = await handle.query("progress", result_type=SyncReport)
        if sum(s.pages for s in progress.streams) >= 2:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the sync listed fewer than 2 pages in a minute")
    live = [r["id"] for r in s.iter_records("subscription")
            if r.get("status") in ("active", "trialing")]
    paid = [r["id"] for r in s.iter_records("charge") if r.get("status") == "succeeded"]
    for sub in live[:8]:
        s.cancel_subscription(sub)
    for charge_id in paid[:8]:
        s.refund(charge_id, 100)
    events = log.since(0)
    async with webhook_client(settings, client) as http:
        results = await deliver(http, client, name, events)
    report = await handle.result(follow_runs=True)
    assert report.phase != "starting" and report.status == "completed"
    # 8 cancellations, and 8 refunds x (refund.created + charge.refunded).
    assert {r.outcome for r in results} == {"applied"} and len(results) == 24
    now = int(last_run(settings, workspace).started_at.timestamp())
    assert synced_values(settings, workspace) == expected_state(
        s, emails, RevenuePolicy(), now)


async def test_an_event_whose_workflow_failed_is_processed_when_stripe_retries(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    paid = charge(s, ann, 5000)
    workspace = await synced(client, settings, fake)
    log = EventLog(s)
    s.refund(paid, 1000)
    [event] = [e for e in log.since(0) if e["type"] == "charge.refunded"]
    s.api_keys.clear()  # the key is revoked: the refetch fails for good
    async with webhook_client(settings, client) as http:
        first = await post_event(http, workspace.name, event)
        handle = client.get_workflow_handle(first.json()["workflow_id"])
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        assert state(settings, workspace)["ann@example.com"][1] == D("50.00")
        s.api_keys.add(KEY)  # a new key works again; Stripe redelivers
        retried = await post_event(http, workspace.name, event)
        assert retried.json() == {"received": True, "workflow_id": handle.id,
                                  "duplicate": False}
        result = await client.get_workflow_handle(handle.id, result_type=EventResult).result()
    assert (result.outcome, result.transitions) == ("applied", 1)
    assert state(settings, workspace)["ann@example.com"][1] == D("40.00")


async def test_a_subscriber_taking_over_a_customer_clears_its_previous_holder(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    """Found by the property test. cat's customer changes its email to ann's; that
    event's refetch has stored the new email but its apply has not run yet, when an
    event about ann's *other* customer is applied. Deriving ann takes cat's customer
    over, so cat must be derived in the same transaction: the email event's own apply
    then finds the customer linked to ann and would never look at cat again."""
    s = fake.state
    ann, cat = customer(s, "ann@example.com"), customer(s, "cat@example.com")
    charge(s, ann, 1000)
    charge(s, cat, 4000)
    workspace = await synced(client, settings, fake)
    assert workspace.id is not None
    log = EventLog(s)
    s.update("customer", cat, {"email": "ann@example.com"})
    [moved] = log.since(0)
    refetch.refetch(workspaces.gateway(settings, workspace), settings.resolved_database_url,
                    workspace.id, [Target("customers", cat)])  # the refetch, not the apply
    mark = log.mark()
    charge(s, ann, 500)
    async with webhook_client(settings, client) as http:
        [paid] = await deliver(http, client, workspace.name, log.since(mark))
        [late] = await deliver(http, client, workspace.name, [moved])
    # ann: 10.00 + 5.00 + cat's customer's 40.00; cat: nothing left; the late event
    # finds nothing more to change.
    assert (paid.subscribers, paid.transitions) == (2, 2)
    assert (late.subscribers, late.transitions) == (1, 0)
    values = state(settings, workspace)
    assert values["ann@example.com"][:2] == (D("0.00"), D("55.00"))
    assert values["cat@example.com"][:3] == (None, None, [])


async def test_an_event_is_one_scheduled_activity_and_its_history_replays(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    """Refetching, applying and handing over run in one activity on the events queue:
    a start and one activity attempt are the event's only Temporal actions (no local
    activities, timers or upserts in its history)."""
    s = fake.state
    sub = ann_pays_monthly(s, 3000)
    workspace = await synced(client, settings, fake)
    log = EventLog(s)
    s.cancel_subscription(sub)
    [event] = log.since(0)
    async with webhook_client(settings, client) as http:
        [result] = await deliver(http, client, workspace.name, [event])
    assert (result.outcome, result.transitions) == ("applied", 1)
    handle = client.get_workflow_handle(event_workflow_id(workspace.name, event["id"]))
    history = await handle.fetch_history()
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")]
    assert scheduled == ["revsync.process_event"]
    billed = {EventType.EVENT_TYPE_MARKER_RECORDED, EventType.EVENT_TYPE_TIMER_STARTED,
              EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
              EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED}
    assert not [e for e in history.events if e.event_type in billed]
    assert undispatched(settings, workspace) == 0
    await Replayer(workflows=[StripeEventWorkflow]).replay_workflow(history)


async def test_an_event_recorded_before_a_crash_still_hands_its_transitions_over(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    """An attempt that committed the event and died before the hand-over: the retry finds
    the event recorded, derives nothing again, and hands the transitions over."""
    s = fake.state
    sub = ann_pays_monthly(s, 3000)
    workspace = await synced(client, settings, fake)
    assert workspace.id is not None
    log = EventLog(s)
    s.cancel_subscription(sub)
    [event] = log.since(0)
    parsed = parse_event(orjson.dumps(event))
    url = settings.resolved_database_url
    refetched = refetch.refetch(workspaces.gateway(settings, workspace), url, workspace.id,
                                list(parsed.targets))
    with db.locked_session(url) as session:  # the first attempt, up to its commit
        first = apply_event(session, ApplyInput(workspace.id, parsed.id, parsed.type,
                                                parsed.created, list(parsed.targets),
                                                refetched.customer_ids), now=int(time.time()))
    assert (first.outcome, first.transitions, undispatched(settings, workspace)) == (
        "applied", 1, 1)
    async with webhook_client(settings, client) as http:
        [retried] = await deliver(http, client, workspace.name, [event])
    assert (retried.outcome, retried.transitions) == ("already_applied", 0)
    assert undispatched(settings, workspace) == 0
    with db.session(url) as session:
        ann = session.exec(select(SubscriberTransition.subscriber_id).where(
            SubscriberTransition.workspace_id == workspace.id,
            SubscriberTransition.source_id == parsed.id)).one()
    win_back = client.get_workflow_handle(
        default_rule_workflow_id(settings, workspace, WIN_BACK, ann))
    await win_back.terminate("test over")  # the sequence was started; its days are not ours


def undispatched(settings: Settings, workspace: Workspace) -> int:
    """Transitions of the workspace not yet handed to the automations."""
    with db.session(settings.resolved_database_url) as session:
        return len(session.exec(select(SubscriberTransition.id).where(
            SubscriberTransition.workspace_id == workspace.id,
            col(SubscriberTransition.silent).is_(False),
            col(SubscriberTransition.dispatched_at).is_(None))).all())
