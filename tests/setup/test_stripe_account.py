"""Connecting reads the Stripe account a key acts on (`GET /v1/account`), so workspaces
that share a Stripe account can share its rate budget; OAuth names the account itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from tests.helpers.e2e import KEY, connect_workspace

OTHER_KEY = "sk_test_other_account"


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    state = FakeStripe(api_keys=[KEY], seed=3)
    state.add_connected_account("acct_Other", connected=False, api_keys=[OTHER_KEY])
    with FakeStripeServer(state) as server:
        yield server


def test_workspaces_on_one_key_name_one_account_and_another_key_its_own(
    settings: Settings, fake: FakeStripeServer
) -> None:
    first = connect_workspace(settings, "shop-eu")
    second = connect_workspace(settings, "shop-us")
    other = connect_workspace(settings, "elsewhere", key=OTHER_KEY)
    assert first.stripe_account_id == second.stripe_account_id == "acct_platform0000000003"
    assert other.stripe_account_id == "acct_Other"
    assert fake.state.log.counts()["GET /v1/account"] == 3  # once per connect
