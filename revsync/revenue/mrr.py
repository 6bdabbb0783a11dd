"""Monthly recurring revenue of subscriptions and customers.

Internally exact (``Fraction``): normalising by 12 or by an interval count gives
non-terminating decimals, and the subscriber total must not depend on summation order
or accumulate rounding. Public helpers expose unrounded ``Decimal`` views.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from revsync.revenue.money import MAX_CONVERTED, convert_exact, fraction_to_decimal

from .discounts import apply_discounts, discount_list, subscription_level_discounts
from .model import Catalogue, CustomerFacts, RevenuePolicy, Tally
from .pricing import item_amount_per_period, item_interval, monthly_factor
from .read import as_dict, complete_list_data, get_str, lower


def subscription_items(subscription: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The subscription's items (``items.data``); None when the field is missing, odd or
    holds only part of them."""
    data = complete_list_data(subscription.get("items"))
    if data is None:
        return None
    return [item for item in (as_dict(x) for x in data) if item is not None]


def subscription_interval(
    subscription: Mapping[str, Any], catalogue: Catalogue
) -> tuple[str, int] | None:
    """The interval the subscription invoices on: that of its first readable item.

    Stripe requires all items of a (classic) subscription to share one interval.
    """
    for item in subscription_items(subscription) or []:
        interval = item_interval(item, catalogue)
        if interval is not None:
            return interval
    return None


def subscription_counts_for_mrr(subscription: Mapping[str, Any], policy: RevenuePolicy) -> bool:
    """Whether the subscription's status is one the workspace counts (default active+trialing)."""
    status = lower(get_str(subscription, "status"))
    return status is not None and status in policy.counted_statuses


def subscription_mrr_exact(
    subscription: Mapping[str, Any],
    catalogue: Catalogue,
    policy: RevenuePolicy,
    now: int,
    customer_discount: object = None,
    tally: Tally | None = None,
) -> dict[str, Fraction]:
    """Exact MRR per currency (major units) of one subscription; {} when it does not count."""
    tally = Tally() if tally is None else tally
    if not subscription_counts_for_mrr(subscription, policy):
        return {}
    items = subscription_items(subscription)
    if items is None:
        tally["items_missing"] += 1
        return {}
    default_currency = lower(get_str(subscription, "currency"))
    totals: dict[str, Fraction] = {}
    for item in items:
        charge = item_amount_per_period(item, catalogue, tally, default_currency)
        if charge is None:
            continue
        monthly = {charge.currency: charge.per_period * charge.factor}
        monthly = apply_discounts(
            monthly, discount_list(item.get("discounts")), charge.factor, catalogue, now, tally
        )
        for currency, amount in monthly.items():
            totals[currency] = totals.get(currency, Fraction(0)) + amount
    if not totals:
        return {}
    interval = subscription_interval(subscription, catalogue)
    factor = None if interval is None else monthly_factor(*interval)
    discounts = subscription_level_discounts(subscription, customer_discount)
    return apply_discounts(totals, discounts, factor, catalogue, now, tally)


def subscription_mrr(
    subscription: Mapping[str, Any],
    catalogue: Catalogue,
    policy: RevenuePolicy,
    now: int,
    customer_discount: object = None,
) -> dict[str, Decimal]:
    """Unrounded MRR per currency (major units) of one subscription, discounts applied."""
    exact = subscription_mrr_exact(subscription, catalogue, policy, now, customer_discount)
    return {currency: fraction_to_decimal(amount) for currency, amount in exact.items()}


def customer_mrr_exact(
    facts: CustomerFacts,
    catalogue: Catalogue,
    policy: RevenuePolicy,
    now: int,
    tally: Tally | None = None,
    unconverted: Tally | None = None,
) -> Fraction:
    """Exact MRR of one customer in the reporting currency.

    Each (subscription, currency) amount without an FX rate is left out and counted
    in ``unconverted`` (zero amounts are not counted: nothing was left out).
    """
    tally = Tally() if tally is None else tally
    unconverted = Tally() if unconverted is None else unconverted
    customer_discount = facts.customer.get("discount")
    total = Fraction(0)
    for raw in facts.subscriptions:
        subscription = as_dict(raw)
        if subscription is None:
            tally["invalid_subscription"] += 1
            continue
        per_currency = subscription_mrr_exact(
            subscription, catalogue, policy, now, customer_discount, tally
        )
        for currency, amount in per_currency.items():
            rate = policy.rate(currency)
            if rate is None:
                if amount != 0:
                    unconverted[currency] += 1
                continue
            converted = amount * rate
            if abs(converted) > MAX_CONVERTED:
                convert_exact(amount, currency, policy.reporting_currency,
                              policy.fx_rates)  # raises, naming this amount
            total += converted
    return total


def customer_mrr(
    facts: CustomerFacts, catalogue: Catalogue, policy: RevenuePolicy, now: int
) -> Decimal:
    """Unrounded MRR of one customer in the reporting currency (amounts without a rate left out)."""
    return fraction_to_decimal(customer_mrr_exact(facts, catalogue, policy, now))
