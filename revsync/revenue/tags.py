"""Stripe-managed status tags (customer, trial, past-due, cancelled, churned, saas.*).

Tags look at every subscription of a customer whatever the MRR status policy says:
they describe the customer's state, not its revenue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Catalogue, CustomerFacts
from .mrr import subscription_items
from .pricing import item_interval
from .read import as_dict, get_str, lower

LIVE_STATUSES: frozenset[str] = frozenset({"active", "trialing", "past_due"})
ENDED_STATUSES: frozenset[str] = frozenset({"canceled", "unpaid"})

_EMPTY_CATALOGUE = Catalogue(prices={}, coupons={})


def subscription_status(subscription: Mapping[str, Any]) -> str | None:
    """Lowercased ``status``."""
    return lower(get_str(subscription, "status"))


def is_scheduled_to_end(subscription: Mapping[str, Any]) -> bool:
    """``cancel_at_period_end`` is true or ``cancel_at`` is set."""
    return subscription.get("cancel_at_period_end") is True or (
        subscription.get("cancel_at") is not None
    )


def subscription_tags(
    subscription: Mapping[str, Any], catalogue: Catalogue = _EMPTY_CATALOGUE
) -> frozenset[str]:
    """Tags one subscription implies on its own (everything except ``churned``)."""
    status = subscription_status(subscription)
    tags: set[str] = set()
    if status in {"active", "past_due"}:
        tags.add("customer")
    if status == "trialing":
        tags.add("trial")
    if status == "past_due":
        tags.add("past-due")
    if status in LIVE_STATUSES:
        if is_scheduled_to_end(subscription):
            tags.add("cancelled")
        for item in subscription_items(subscription) or []:
            interval = item_interval(item, catalogue)
            if interval == ("month", 1):
                tags.add("saas.monthly")
            elif interval == ("year", 1):
                tags.add("saas.yearly")
    return frozenset(tags)


def customer_tags(facts: CustomerFacts, catalogue: Catalogue = _EMPTY_CATALOGUE) -> frozenset[str]:
    """Tags of one Stripe customer: union over its subscriptions, plus ``churned``.

    ``churned``: no live subscription, and some subscription is canceled or unpaid.
    """
    subscriptions = [s for s in (as_dict(x) for x in facts.subscriptions) if s is not None]
    statuses = {subscription_status(s) for s in subscriptions}
    tags: set[str] = set()
    for subscription in subscriptions:
        tags |= subscription_tags(subscription, catalogue)
    if not statuses & LIVE_STATUSES and statuses & ENDED_STATUSES:
        tags.add("churned")
    return frozenset(tags)
