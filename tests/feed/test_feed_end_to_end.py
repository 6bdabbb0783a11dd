"""The change feed and the sink end to end: a real Temporal dev server, the fake Stripe
server, signed webhooks through the app, the feed read over its HTTP routes, and a
platform's sink worker in a process of its own. Runs on SQLite and PostgreSQL.

The account, by hand: ann pays $30/month (paid twice), ben $50/month (paid once), cat
$20/month (paid once). Then ann cancels, ben pays again and cat's renewal fails.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select
from temporalio.client import Client

from fake_stripe import FakeStripeServer
from revsync.feed.sink import sink_workflow_id
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from tests.helpers.e2e import ROOT, connect_workspace, import_emails, process_env, sync
from tests.helpers.sink_worker import applied_positions, received_batches
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, post_event, webhook_client
from tests.web.test_api_errors import AUTH, TOKEN

pytestmark = pytest.mark.usefixtures("workers")

SINK_ACTIVITY = "platform.receive_changes"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with a sink on a queue of this test's own, and a short
    call timeout, so a sink worker killed mid-call is retried within seconds."""
    return settings.model_copy(update={
        "sink_activity": SINK_ACTIVITY, "sink_task_queue": f"{settings.task_queue}-sink",
        "sink_timeout_seconds": 3, "sink_batch_size": 2,
        "platform_key": SecretStr(TOKEN)})


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with webhook_client(settings, client) as http:
        http.headers.update(AUTH)
        yield http


def sink_worker(settings: Settings, client: Client, journal: Path,
                hang_first: bool = False) -> subprocess.Popen[bytes]:
    temporal = client.service_client.config.target_host
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.sink_worker", str(journal),
         *(["--hang-first"] if hang_first else [])],
        cwd=ROOT, env=process_env(settings, temporal),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def until(check: Any, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def feed(http: httpx.AsyncClient, path: str, after: str = "",
               limit: int = 1000) -> dict[str, Any]:
    response = await http.get(path, params={"after": after, "limit": limit})
    assert response.status_code == 200, response.text
    return dict(response.json())


def values(change: dict[str, Any]) -> tuple[Any, ...]:
    before, after = change["before"], change["after"]
    return (change["subscriber_id"], change["cause"], before["mrr"], before["ltv"],
            before["tags"], after["mrr"], after["ltv"], after["tags"],
            change["tags_added"], change["tags_removed"])


async def test_events_reach_the_feed_in_order_and_the_sink_once_across_a_kill(
    client: Client, settings: Settings, fake: FakeStripeServer, http: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    s = fake.state
    ann, ben, cat = (customer(s, f"{n}@example.com") for n in ("ann", "ben", "cat"))
    subs = {}
    for cus, cents, paid in ((ann, 3000, 2), (ben, 5000, 1), (cat, 2000, 1)):
        subs[cus] = s.put("subscription", {"customer": cus, "status": "active",
                                           "items": {"data": [{"price": monthly(s, cents)}]}}
                          )["id"]
        for _ in range(paid):
            charge(s, cus, cents)
    workspace = connect_workspace(settings, f"shop-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET])
    import_emails(settings, workspace, ["ann@example.com", "ben@example.com",
                                        "cat@example.com"])
    ids = subscriber_ids(settings, workspace)
    journal = tmp_path / "sink.jsonl"
    hanging = sink_worker(settings, client, journal, hang_first=True)
    try:
        await sync(client, settings, workspace)
        # The first sync is silent for the automations, but its changes are in the feed:
        # each subscriber's starting values.
        path = f"/api/workspaces/{workspace.name}/changes"
        first = await feed(http, path)
        assert [values(c) for c in first["changes"]] == [
            (ids["ann"], "sync", None, None, [], "30.00", "60.00", ["customer", "saas.monthly"],
             ["customer", "saas.monthly"], []),
            (ids["ben"], "sync", None, None, [], "50.00", "50.00", ["customer", "saas.monthly"],
             ["customer", "saas.monthly"], []),
            (ids["cat"], "sync", None, None, [], "20.00", "20.00", ["customer", "saas.monthly"],
             ["customer", "saas.monthly"], []),
        ]
        assert first["has_more"] is False
        assert all(c["external_id"] is None and "email" not in str(c) for c in first["changes"])
        # The sink got the first batch (two changes: the batch size) and hangs on it.
        await until(lambda: received_batches(journal), "the sink's first call")
        hanging.send_signal(signal.SIGKILL)
        hanging.wait()
    finally:
        if hanging.poll() is None:
            hanging.kill()
    assert applied_positions(journal) == []
    worker = sink_worker(settings, client, journal)
    try:
        log = EventLog(s)
        s.cancel_subscription(subs[ann])  # ann: MRR 0, LTV stays 60.00, churned
        charge(s, ben, 5000)  # ben pays again: LTV 100.00
        s.update("subscription", subs[cat], {"status": "past_due"})  # cat: MRR 0, past-due
        events = log.since(0)
        # One at a time, so the feed's order is the events' order.
        results = [r for e in events for r in await deliver(http, client, workspace.name, [e])]
        assert sum(r.transitions for r in results) == 3
        later = await feed(http, path, after=first["next"])
        assert [values(c) for c in later["changes"]] == [
            (ids["ann"], "stripe_event", "30.00", "60.00", ["customer", "saas.monthly"],
             "0.00", "60.00", ["churned"], ["churned"], ["customer", "saas.monthly"]),
            (ids["ben"], "stripe_event", "50.00", "50.00", ["customer", "saas.monthly"],
             "50.00", "100.00", ["customer", "saas.monthly"], [], []),
            (ids["cat"], "stripe_event", "20.00", "20.00", ["customer", "saas.monthly"],
             "0.00", "20.00", ["customer", "past-due", "saas.monthly"], ["past-due"], []),
        ]
        assert [c["cause_id"] for c in later["changes"]] == [
            e["id"] for e in events if e["type"] in (
                "customer.subscription.deleted", "charge.succeeded",
                "customer.subscription.updated")]
        positions = [c["position"] for c in first["changes"] + later["changes"]]
        assert positions == sorted(positions)
        # A redelivered event is a duplicate: nothing more in the feed.
        again = await post_event(http, workspace.name, events[0])
        assert again.json()["duplicate"] is True
        assert (await feed(http, path, after=later["next"]))["changes"] == []
        # The sink applied every change exactly once, in feed order; the batch its
        # killed worker held was handed over again.
        await until(lambda: applied_positions(journal) == positions, "the sink to catch up")
        received = received_batches(journal)
        assert received[0] == received[1] == positions[:2]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        await client.get_workflow_handle(sink_workflow_id(workspace.id or 0)).terminate()


def subscriber_ids(settings: Settings, workspace: Workspace) -> dict[str, int]:
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(select(Subscriber).where(
            Subscriber.workspace_id == workspace.id)).all()
    return {r.email.split("@")[0]: r.id or 0 for r in rows}
