"""SIGKILL the worker process mid-sync: a new worker finishes the same sync with the
state of an uninterrupted run, re-fetching at most the page in flight per stream, and
the run record counts every request that reached Stripe, the one in flight included.
The charges stream is cut into created-time partitions as it goes; the kill lands among
them and they still list every charge exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from fake_stripe import (
    Account,
    FakeStripe,
    FakeStripeServer,
    generate_account,
    subscriber_emails,
)
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport
from tests.helpers.e2e import (
    KEY,
    connect_workspace,
    import_emails,
    last_run,
    synced_values,
)
from tests.helpers.kill import kill_and_finish, worker_process
from tests.helpers.oracle import expected_state


def nested_list(path: str) -> str | None:
    """The stream whose objects embed the list `path` pages the rest of, if it is one."""
    if path == "/v1/subscription_items":
        return "subscriptions"
    return "invoices" if path.startswith("/v1/invoices/") and path.endswith("/lines") else None


@pytest.fixture
def account() -> Account:
    return generate_account(300, seed=5)


@pytest.fixture
def fake(account: Account) -> Iterator[FakeStripeServer]:
    state = FakeStripe(api_keys=[KEY])
    state.load(account)
    state.faults.set(latency_ms=40)
    with FakeStripeServer(state) as server:
        yield server


async def test_sigkill_mid_sync_resumes_to_the_same_state(
    fake: FakeStripeServer, account: Account, settings: Settings, client: Client
) -> None:
    server, emails = fake, subscriber_emails(account, seed=5)
    workspace = connect_workspace(settings, "killed")
    import_emails(settings, workspace, emails)
    temporal = client.service_client.config.target_host
    first = worker_process(settings, temporal)
    before = len(server.state.log.entries())  # connecting checked the key
    handle = await start_sync(client, settings, workspace)

    # Wait until the charges stream has committed a few pages, then kill -9.
    for _ in range(600):
        report = await handle.query("progress", result_type=SyncReport)
        charges = [s for s in report.streams if s.name == "charges"]
        if charges and charges[0].pages >= 4:
            assert not charges[0].done, "the kill must land mid-stream"
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the sync made no progress")
    # Slow Stripe down and kill while a request is in flight (the fake holds it).
    server.state.faults.set(latency_ms=3000)
    for _ in range(600):
        if server.state.log.in_flight():
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("no request in flight")
    result = await kill_and_finish(first, handle, settings, temporal,
                                   before_restart=lambda: server.state.faults.set(latency_ms=40))

    assert result.status == "completed"
    run = last_run(settings, workspace)
    # Every request that reached the fake is counted: the fake's log is the truth. A
    # request is counted before it is sent, so a kill between the two can add one
    # per stream partition that had a request under way, and never lose one.
    reached = len(server.state.log.entries()) - before
    assert run.requests == result.requests
    assert reached <= result.requests <= reached + len(result.streams), (reached, result.requests)
    now = int(run.started_at.timestamp())
    expected = expected_state(server.state, emails, RevenuePolicy(), now)
    assert synced_values(settings, workspace) == expected
    # Each stream (and each partition: its `created` range is in the query) read each
    # cursor once, except at most the one page in flight at the kill.
    pages = Counter(
        (r.path, r.query)
        for r in server.state.log.entries() if r.path.startswith("/v1/") and r.status == 200
    )
    # A request re-sent at most once (the kill), by at most one cursor per partition.
    assert all(n <= 2 for n in pages.values()), [k for k, n in pages.items() if n > 2]
    partitions = Counter(s.name for s in result.streams)
    refetched = Counter(path for (path, _), n in pages.items() for _ in range(n - 1))
    # The rest of a nested list is read again only with the page it belongs to.
    lists = {path: n for path, n in refetched.items() if not nested_list(path)}
    assert all(n <= partitions[path.removeprefix("/v1/")] for path, n in lists.items()), (
        refetched, partitions)
    assert all(f"/v1/{parent}" in lists for path in refetched
               if (parent := nested_list(path))), refetched
    assert sum(s.objects for s in result.streams if s.name == "customers") == 300
    # Charges were cut into partitions while the kill landed, and together they listed
    # every charge exactly once.
    assert partitions["charges"] > 1
    assert sum(s.objects for s in result.streams if s.name == "charges") == \
        server.state.count("charge")
