"""What each Stripe account may spend: pure arithmetic, no I/O.

Temporal limits each fairness key of a task queue to one default rate, scaled by the
key's weight. The key is the Stripe account, the default rate is a test-mode account's
budget, and the weight carries the rest: a live key's larger budget and the workspace's
own weight. So one number per account sets both its share of the workers when they
are busy and its request rate, and both hold across every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from revsync.settings import Settings

# Never plan more than this share of Stripe's own per-account limit (test 25/s, live
# 100/s): the merchant's own integration keeps the rest.
STRIPE_LIMITS = {False: 25.0, True: 100.0}
HEADROOM = 0.8
MIN_WEIGHT, MAX_WEIGHT = 0.1, 10.0


@dataclass(frozen=True)
class AccountBudget:
    """The fairness key and weight a workspace's Stripe calls carry."""

    key: str
    weight: float

    def requests_per_second(self, settings: Settings) -> float:
        """The full-sync budget this key gets from Temporal's per-key rate limit."""
        return settings.stripe_requests_per_second * self.weight


def budget_key(workspace_id: int, stripe_account_id: str | None) -> str:
    """The Stripe account; a workspace whose account is not known yet keys on itself."""
    return stripe_account_id or f"workspace-{workspace_id}"


def account_weight(settings: Settings, livemode: bool, workspace_weight: float) -> float:
    """The key's weight: its planned budget over a test-mode account's.

    The planned budget is the mode's default times the workspace's weight, capped at
    HEADROOM of Stripe's limit unless the configured default is already above it.
    """
    mode_rate = (settings.stripe_live_requests_per_second if livemode
                 else settings.stripe_requests_per_second)
    cap = max(mode_rate, STRIPE_LIMITS[livemode] * HEADROOM)
    planned = min(mode_rate * check_weight(workspace_weight), cap)
    return round(planned / settings.stripe_requests_per_second, 6)


def check_weight(weight: float) -> float:
    """A workspace weight in range, else ValueError naming the range."""
    if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise ValueError(f"a budget weight is between {MIN_WEIGHT} and {MAX_WEIGHT}, "
                         f"not {weight}")
    return weight


def is_live_key(key: str) -> bool:
    """sk_live_ and rk_live_ keys act on live data; everything else is test mode."""
    return key.startswith(("sk_live_", "rk_live_"))
