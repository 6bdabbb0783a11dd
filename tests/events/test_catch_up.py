"""Catch-up: events missed while the endpoint was down are replayed from the Events API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.events.catch_up_client import CatchUpError, check_window, default_since, start_catch_up
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from tests.helpers.e2e import (
    KEY,
    connect_workspace,
    import_emails,
    last_run,
    sync,
    synced_values,
)
from tests.helpers.oracle import expected_state
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, webhook_client

EMAILS = ["ann@example.com", "ben@example.com"]


CLOCK = [0]


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    """Objects are seeded a minute ago; later changes get the current second."""
    CLOCK[0] = int(time.time()) - 60
    with FakeStripeServer(FakeStripe(api_keys=[KEY], clock=lambda: CLOCK[0])) as server:
        yield server


async def test_missed_events_are_replayed_once(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None
) -> None:
    s = fake.state
    ann, ben = customer(s, EMAILS[0]), customer(s, EMAILS[1])
    subs = [s.put("subscription", {"customer": c, "status": "active", "items": {"data": [
        {"price": monthly(s, 2500)}]}})["id"] for c in (ann, ben)]
    charge(s, ann, 2500)
    ben_paid = charge(s, ben, 2500)
    workspace = connect_workspace(settings, f"cu-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET])
    import_emails(settings, workspace, EMAILS)
    await sync(client, settings, workspace)
    since = default_since(settings, workspace)
    assert since == int(last_run(settings, workspace).started_at.timestamp())

    log = EventLog(s)
    CLOCK[0] = int(time.time())
    s.cancel_subscription(subs[0])  # missed: the endpoint was down
    s.refund(ben_paid, 500)  # missed too
    s.update("subscription", subs[1], {"cancel_at_period_end": True})  # this one arrived
    arrived = log.since(0)[-1]
    async with webhook_client(settings, client) as http:
        await deliver(http, client, workspace.name, [arrived])

    result = await (await start_catch_up(client, settings, workspace, since)).result()
    # Events since the sync started: subscription.deleted, refund.created, charge.updated
    # (not handled), charge.refunded and the subscription.updated that arrived (applied).
    assert (result.pages, result.events, result.started) == (1, 3, 3)
    expected = expected_state(s, EMAILS, RevenuePolicy(), int(time.time()))
    assert synced_values(settings, workspace) == expected
    assert expected[EMAILS[0]][2] == ["churned"]

    again = await (await start_catch_up(client, settings, workspace, since)).result()
    assert (again.events, again.started) == (0, 0)


def test_a_gap_beyond_thirty_days_asks_for_a_full_sync(settings: Settings,
                                                      fake: FakeStripeServer) -> None:
    workspace = connect_workspace(settings, "old")
    with pytest.raises(CatchUpError, match="full sync"):
        default_since(settings, workspace)  # never synced
    now = 1_800_000_000
    check_window(workspace, now - 30 * 86400, now=now)  # exactly 30 days: still there
    with pytest.raises(CatchUpError, match="30 days"):
        check_window(workspace, now - 30 * 86400 - 1, now=now)
