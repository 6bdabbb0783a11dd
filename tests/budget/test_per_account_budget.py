"""Temporal holds each Stripe account to its own budget, for every workspace on it.

Two workspaces on one Stripe account share one budget; two accounts get two. Both are
read off the fake's per-account request log: the rate each account saw while listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from fake_stripe import FakeStripe, FakeStripeServer, generate_account
from revsync.budget.task_queues import per_key_rates
from revsync.settings import Settings
from revsync.store.models import Workspace
from revsync.sync.client import start_sync
from revsync.temporal.client import connect
from revsync.temporal.workers import run_until
from tests.helpers.e2e import KEY, connect_workspace

OTHER_KEY = "sk_test_other_account"
# Requests per second per account, one page per activity: well below what one sync lists
# at without a limit here, so the budget is what sets the rate (and high enough for
# Temporal's limiter to hold it closely: at 1-2 activities/s it gives about 70%).
BUDGET = 5.0
CUSTOMERS = 250


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    state = FakeStripe.seeded(customers=CUSTOMERS, seed=11, api_keys=[KEY])
    other = state.add_connected_account("acct_Other", connected=False, api_keys=[OTHER_KEY])
    other.load(generate_account(CUSTOMERS, 12))
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture
def budget_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stripe_requests_per_second": BUDGET,
                                       "pages_per_activity": 1})


@pytest.fixture
async def budget_client(temporal_env: WorkflowEnvironment, budget_settings: Settings
                        ) -> AsyncIterator[Client]:
    target = temporal_env.client.service_client.config.target_host
    client = await connect(budget_settings, target_host=target)
    stop = asyncio.Event()
    task = asyncio.create_task(run_until(client, budget_settings, stop))
    yield client
    stop.set()
    await task


async def sync_together(client: Client, settings: Settings, fake: FakeStripeServer,
                        *workspaces: Workspace) -> None:
    fake.state.log.clear()  # connecting asked Stripe too, earlier: not part of the rate
    handles = [await start_sync(client, settings, w) for w in workspaces]
    await asyncio.gather(*(h.result(follow_runs=True) for h in handles))
    for handle, workspace in zip(handles, workspaces, strict=True):
        info = (await handle.describe()).raw_description.workflow_execution_info
        assert info.priority.fairness_key == workspace.stripe_account_id


def list_stamps(fake: FakeStripeServer, account: str) -> list[float]:
    """When the account answered each list request, in order."""
    return sorted(r.timestamp for r in fake.state.log.entries()
                  if r.account == account and r.endpoint.startswith("GET /v1/"))


def listing_rate(fake: FakeStripeServer, account: str) -> tuple[int, float]:
    """List requests the account answered, and their rate from first to last."""
    stamps = list_stamps(fake, account)
    return len(stamps), (len(stamps) - 1) / (stamps[-1] - stamps[0])


def overlapping_rate(fake: FakeStripeServer, *accounts: str) -> float:
    """The accounts' list requests per second while all of them were listing.

    Measured over the window they share only: one sync starting or ending a few seconds
    before the other would otherwise dilute the rate with time one account ran alone.
    """
    stamps = [list_stamps(fake, account) for account in accounts]
    start, end = max(s[0] for s in stamps), min(s[-1] for s in stamps)
    assert end - start >= 3, "the syncs hardly overlapped"
    inside = sum(start <= t <= end for s in stamps for t in s)
    return (inside - len(accounts)) / (end - start)  # a fence post per account, not more


async def test_one_account_shares_its_budget_and_two_accounts_get_two(
    budget_client: Client, budget_settings: Settings, fake: FakeStripeServer
) -> None:
    eu = connect_workspace(budget_settings, "shop-eu")
    us = connect_workspace(budget_settings, "shop-us")
    other = connect_workspace(budget_settings, "elsewhere", key=OTHER_KEY)
    assert eu.stripe_account_id == us.stripe_account_id != other.stripe_account_id

    # Two workspaces, one account: both syncs together list within one budget.
    await sync_together(budget_client, budget_settings, fake, eu, us)
    requests, shared = listing_rate(fake, "platform")
    assert requests >= 30  # long enough for a rate to mean something
    assert shared <= BUDGET * 1.3

    # Two workspaces, two accounts: each account within its own budget, so together
    # they list well past what one budget allows (the same two syncs, on this machine).
    await sync_together(budget_client, budget_settings, fake, eu, other)
    for account in ("platform", "acct_Other"):
        requests, alone = listing_rate(fake, account)
        assert requests >= 15 and alone <= BUDGET * 1.3
    together = overlapping_rate(fake, "platform", "acct_Other")
    assert together >= shared * 1.4, (shared, together)


def test_the_queues_per_key_rate_is_the_test_mode_budget_per_activity() -> None:
    settings = Settings(stripe_requests_per_second=12, pages_per_activity=4,
                        stripe_event_requests_per_second=6)
    assert per_key_rates(settings) == {settings.stripe_task_queue: 3.0,
                                       settings.stripe_events_task_queue: 3.0}
