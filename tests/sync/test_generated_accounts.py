"""A generated account synced through real workflows equals the pure rules applied to
the fake's full objects, within the request bound, across continue-as-new and faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer, generate_account, subscriber_emails
from revsync.revenue import RevenuePolicy
from revsync.settings import Settings
from tests.helpers.e2e import KEY, connect_workspace, import_emails, last_run, sync, synced_values
from tests.helpers.oracle import expected_state

CUSTOMERS = 250


@pytest.fixture(scope="module")
def account_emails() -> tuple[FakeStripe, list[str]]:
    account = generate_account(CUSTOMERS, seed=11)
    fake = FakeStripe(api_keys=[KEY])
    fake.load(account)
    return fake, subscriber_emails(account, match_ratio=0.9, seed=11)


@pytest.fixture
def fake(account_emails: tuple[FakeStripe, list[str]]) -> Iterator[FakeStripeServer]:
    account_emails[0].faults.reset()
    with FakeStripeServer(account_emails[0]) as server:
        yield server


@pytest.mark.parametrize("faults", [{}, {"rate_limit_every": 7, "retry_after": 0,
                                         "server_error_every": 11}], ids=["clean", "throttled"])
async def test_generated_account_matches_the_rules(
    fake: FakeStripeServer, account_emails: tuple[FakeStripe, list[str]], settings: Settings,
    client: Client, workers: None, faults: dict[str, Any],
) -> None:
    emails = account_emails[1]
    workspace = connect_workspace(settings, "gen")
    import_emails(settings, workspace, emails)
    fake.state.faults.set(None, **faults)

    # A small history limit forces several continue-as-new runs of the one sync.
    report = await sync(client, settings, workspace, history_limit=40)

    assert report.status == "completed"
    assert report.continued >= 2
    run = last_run(settings, workspace)
    now = int(run.started_at.timestamp())
    expected = expected_state(fake.state, emails, RevenuePolicy(), now)
    assert synced_values(settings, workspace) == expected
    # The comparison is not vacuous: many subscribers carry revenue and tags.
    assert sum(1 for mrr, _, tags in expected.values() if mrr and tags) > CUSTOMERS // 4
    listed: dict[str, int] = {}
    for stream in report.streams:  # a stream cut into partitions adds up under its name
        listed[stream.name] = listed.get(stream.name, 0) + stream.objects
    assert listed["customers"] == fake.state.count("customer") == CUSTOMERS
    assert listed["charges"] == fake.state.count("charge")
    data_requests = report.requests - report.catalogue_requests
    if faults:
        # Every 7th request was throttled and every 11th failed; all were retried.
        assert data_requests > report.min_requests
    else:
        assert data_requests <= 1.1 * report.min_requests
        assert run.requests == report.requests and run.min_requests == report.min_requests


async def test_partitioned_streams_read_every_object_once(
    fake: FakeStripeServer, account_emails: tuple[FakeStripe, list[str]], settings: Settings,
    client: Client, workers: None,
) -> None:
    emails = account_emails[1]
    workspace = connect_workspace(settings, "parts")
    import_emails(settings, workspace, emails)

    # Split every stream still going after 2 pages into 3 created-time ranges.
    report = await sync(client, settings, workspace, split_after_pages=2, partitions=3,
                        history_limit=60)

    split_names = {s.name for s in report.streams if s.part}
    assert {"charges", "subscriptions", "customers"} <= split_names
    # Long partitions were split again, from their own bounds.
    assert sum(1 for s in report.streams if s.name == "charges") > 3
    listed = {name: sum(s.objects for s in report.streams if s.name == name)
              for name in ("customers", "subscriptions", "charges")}
    assert listed == {"customers": fake.state.count("customer"),
                      "subscriptions": fake.state.count("subscription"),
                      "charges": fake.state.count("charge")}
    now = int(last_run(settings, workspace).started_at.timestamp())
    expected = expected_state(fake.state, emails, RevenuePolicy(), now)
    assert synced_values(settings, workspace) == expected
