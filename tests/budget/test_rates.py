"""A Stripe account's weight: its budget over a test-mode account's, capped below Stripe's."""

from __future__ import annotations

import pytest

from revsync.budget.rates import AccountBudget, account_weight, budget_key, is_live_key
from revsync.settings import Settings

SETTINGS = Settings(stripe_requests_per_second=10, stripe_live_requests_per_second=20)


def test_a_test_mode_account_at_weight_one_gets_the_default_rate() -> None:
    assert account_weight(SETTINGS, livemode=False, workspace_weight=1.0) == 1.0
    assert AccountBudget("acct_A", 1.0).requests_per_second(SETTINGS) == 10.0


def test_a_live_key_weighs_its_larger_default() -> None:
    # 20/s live over 10/s test.
    assert account_weight(SETTINGS, livemode=True, workspace_weight=1.0) == 2.0


def test_the_workspace_weight_scales_and_stops_at_four_fifths_of_stripes_limit() -> None:
    assert account_weight(SETTINGS, livemode=False, workspace_weight=0.5) == 0.5
    # Test mode: 10 x 3 = 30/s would pass Stripe's 25/s; the cap is 0.8 x 25 = 20/s.
    assert account_weight(SETTINGS, livemode=False, workspace_weight=3.0) == 2.0
    # Live: 20 x 10 = 200/s; the cap is 0.8 x 100 = 80/s, a weight of 8.
    assert account_weight(SETTINGS, livemode=True, workspace_weight=10.0) == 8.0


def test_a_configured_default_above_the_cap_is_never_cut() -> None:
    fast = Settings(stripe_requests_per_second=50)
    assert account_weight(fast, livemode=False, workspace_weight=1.0) == 1.0


@pytest.mark.parametrize("weight", [0.0, 0.09, 10.5, -1.0, float("nan")])
def test_weights_out_of_range_are_refused(weight: float) -> None:
    with pytest.raises(ValueError, match=r"between 0\.1 and 10"):
        account_weight(SETTINGS, livemode=False, workspace_weight=weight)


def test_the_key_is_the_account_or_else_the_workspace() -> None:
    assert budget_key(7, "acct_123") == "acct_123"
    assert budget_key(7, None) == "workspace-7"


@pytest.mark.parametrize(("key", "live"), [
    ("sk_live_abc", True), ("rk_live_abc", True), ("sk_test_abc", False),
    ("rk_test_abc", False), ("sk_livestock", False),
])
def test_live_keys_by_prefix(key: str, live: bool) -> None:
    assert is_live_key(key) is live
