"""Webhooks end to end: fake Stripe changes -> signed events -> event workflows -> subscribers.

Each test first runs a full sync of a small hand-built account, then changes Stripe
the way a customer or an operator would and delivers the events Stripe emitted.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from sqlmodel import select
from temporalio.client import Client

from revsync import db
from revsync.fake_stripe import FakeStripe, FakeStripeServer
from revsync.models import StripeEvent, SubscriberTransition, Workspace
from revsync.settings import Settings
from tests.helpers import KEY, connect_workspace, import_emails, state, sync
from tests.test_full_sync import charge, customer, monthly
from tests.webhook_helpers import SECRET, EventLog, deliver, post_event, webhook_client

pytestmark = pytest.mark.usefixtures("workers")

EMAILS = ["ann@example.com", "ben@example.com", "cat@example.com"]


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as server:
        yield server


def transitions(settings: Settings, workspace: Workspace) -> list[tuple[str, list[str], list[str]]]:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(
            select(SubscriberTransition).where(SubscriberTransition.workspace_id == workspace.id)
            .order_by(SubscriberTransition.id)  # type: ignore[arg-type]
        ).all()
    return [(r.source_id, r.tags_added, r.tags_removed) for r in rows]


async def synced(client: Client, settings: Settings, fake: FakeStripeServer) -> Workspace:
    """Workspace names are unique per test: event workflow ids (which include the name)
    live on the one dev server of the session, and the fake's event ids repeat."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    workspace = connect_workspace(settings, name, fake.base_url, webhook_secrets=[SECRET])
    import_emails(settings, workspace, EMAILS)
    await sync(client, settings, workspace)
    return workspace


async def test_cancellation_churns_and_redelivery_changes_nothing(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    # $30/month active, paid $30 twice -> MRR 30.00, LTV 60.00, tags customer + saas.monthly.
    sub = s.put("subscription", {"customer": ann, "status": "active",
                                 "items": {"data": [{"price": monthly(s, 3000)}]}})["id"]
    charge(s, ann, 3000)
    charge(s, ann, 3000)
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
