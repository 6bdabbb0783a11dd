"""A workspace's budget read from the database: its account's key, mode and weight."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.budget.lookup import budget_of, priority_of, set_weight
from revsync.settings import Settings
from revsync.store import db, workspaces
from tests.helpers.e2e import KEY, connect_workspace

LIVE_KEY = "sk_live_revsync_tests"


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    state = FakeStripe(api_keys=[KEY])
    state.add_connected_account("acct_Live", connected=False, api_keys=[LIVE_KEY])
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture
def plain(settings: Settings) -> Settings:
    return settings.model_copy(update={"stripe_requests_per_second": 10.0})


def test_workspaces_of_one_account_share_its_largest_weight(
    plain: Settings, fake: FakeStripeServer
) -> None:
    eu = connect_workspace(plain, "shop-eu")
    us = connect_workspace(plain, "shop-us")
    with db.session(plain.resolved_database_url) as session:
        set_weight(session, workspaces.by_name(session, "shop-us"), 3.0)
        for workspace in (eu, us):
            budget = budget_of(session, plain, workspaces.by_name(session, workspace.name))
            # 3 x 10/s = 30/s passes test mode's 25/s: capped at 80% of it, 20/s.
            assert (budget.key, budget.weight) == (us.stripe_account_id, 2.0)
        with pytest.raises(ValueError, match="between"):
            set_weight(session, workspaces.by_name(session, "shop-eu"), 20.0)


def test_a_live_key_gets_the_live_default_under_its_own_account(
    plain: Settings, fake: FakeStripeServer
) -> None:
    live = connect_workspace(plain, "live", key=LIVE_KEY)
    assert live.stripe_livemode is True
    priority = priority_of(plain, live)
    assert (priority.fairness_key, priority.fairness_weight) == ("acct_Live", 2.0)  # 20/10
    test = connect_workspace(plain, "test")
    assert test.stripe_livemode is False
    assert priority_of(plain, test).fairness_weight == 1.0
