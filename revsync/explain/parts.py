"""Why a subscriber has the numbers and tags it has. Pure: no I/O.

The explanation is built from the same functions the derivation uses: each
subscription's MRR comes from `subscription_mrr_exact`, each charge's part of LTV is its
net converted as `customer_ltv_exact` converts it, so the parts are the derivation's own
terms. Shown in cents, the parts are allocated by largest remainder, so they add up
exactly to the stored (rounded once) MRR and LTV; the exact value is given beside any
part that is not a whole number of cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from revsync.revenue.derive import derive_subscriber
from revsync.revenue.discounts import apply_discounts, discount_list
from revsync.revenue.eligibility import ELIGIBLE, eligibility
from revsync.revenue.model import Catalogue, CustomerFacts, RevenuePolicy, Tally
from revsync.revenue.money import convert_exact, fraction_to_decimal, to_major_exact
from revsync.revenue.mrr import (
    subscription_counts_for_mrr,
    subscription_items,
    subscription_mrr_exact,
)
from revsync.revenue.pricing import item_amount_per_period, item_interval
from revsync.revenue.read import as_dict, get_int, get_str, lower
from revsync.revenue.tags import subscription_tags


@dataclass
class ItemPart:
    item: str
    price: str
    interval: str  # e.g. "1 month", "1 year"
    per_period: Decimal  # after quantity and tiers, in `currency`
    currency: str
    monthly: Decimal  # normalised to a month, item discounts applied, exact (unrounded)


@dataclass
class Part:
    """One term of a total: its exact value in the reporting currency, and in cents."""

    exact: Fraction
    cents: Decimal = Decimal("0.00")

    @property
    def inexact(self) -> bool:
        return Fraction(self.cents) != self.exact


@dataclass
class SubscriptionPart:
    id: str
    status: str
    counted: bool
    tags: list[str]
    items: list[ItemPart] = field(default_factory=list)
    monthly: dict[str, Decimal] = field(default_factory=dict)  # per currency, discounted
    converted: Part | None = None  # None: not counted, or a currency without a rate


@dataclass
class ChargePart:
    id: str
    status: str
    captured: int
    refunded: int
    currency: str
    converted: Part | None = None  # None: counts nothing (or no rate)


@dataclass
class CustomerPart:
    id: str
    eligibility: str
    subscriptions: list[SubscriptionPart] = field(default_factory=list)
    charges: list[ChargePart] = field(default_factory=list)


@dataclass
class Explanation:
    mrr: Decimal | None
    ltv: Decimal | None
    tags: list[str]
    customers: list[CustomerPart]
    policy: dict[str, Any]


def explain(customers: Sequence[CustomerFacts], catalogue: Catalogue, policy: RevenuePolicy,
            now: int) -> Explanation:
    derived = derive_subscriber(customers, catalogue, policy, now)
    parts = [_customer(facts, catalogue, policy, now) for facts in customers]
    _allocate([s.converted for c in parts for s in c.subscriptions], derived.mrr)
    _allocate([ch.converted for c in parts for ch in c.charges], derived.ltv)
    return Explanation(
        mrr=derived.mrr, ltv=derived.ltv, tags=sorted(derived.tags), customers=parts,
        policy={"mrr_statuses": sorted(policy.mrr_statuses),
                "reporting_currency": policy.reporting_currency,
                "fx_rates": {k: str(v) for k, v in sorted(policy.fx_rates.items())},
                "products": sorted(policy.products),
                "sync_without_payment": policy.sync_without_payment})


def _customer(facts: CustomerFacts, catalogue: Catalogue, policy: RevenuePolicy,
              now: int) -> CustomerPart:
    reason = eligibility(facts, policy, catalogue)
    part = CustomerPart(get_str(facts.customer, "id") or "?", reason)
    if reason != ELIGIBLE:
        return part
    for raw in facts.subscriptions:
        subscription = as_dict(raw)
        if subscription is not None:
            part.subscriptions.append(_subscription(subscription, facts, catalogue, policy, now))
    for raw in facts.charges:
        charge = as_dict(raw)
        if charge is not None:
            part.charges.append(_charge(charge, policy))
    return part


def _subscription(subscription: dict[str, Any], facts: CustomerFacts, catalogue: Catalogue,
                  policy: RevenuePolicy, now: int) -> SubscriptionPart:
    part = SubscriptionPart(
        id=get_str(subscription, "id") or "?", status=get_str(subscription, "status") or "?",
        counted=subscription_counts_for_mrr(subscription, policy),
        tags=sorted(subscription_tags(subscription, catalogue)))
    if not part.counted:
        return part
    currency = lower(get_str(subscription, "currency"))
    for item in subscription_items(subscription) or []:
        charge = item_amount_per_period(item, catalogue, Tally(), currency)
        if charge is None:
            continue
        interval = item_interval(item, catalogue)
        monthly = apply_discounts({charge.currency: charge.per_period * charge.factor},
                                  discount_list(item.get("discounts")), charge.factor,
                                  catalogue, now, Tally())
        part.items.append(ItemPart(
            item=get_str(item, "id") or "?", price=_price_id(item),
            interval=f"{interval[1]} {interval[0]}" if interval else "?",
            per_period=fraction_to_decimal(charge.per_period).normalize(),
            currency=charge.currency,
            monthly=fraction_to_decimal(monthly.get(charge.currency, Fraction(0))).normalize()))
    exact = subscription_mrr_exact(subscription, catalogue, policy, now,
                                   facts.customer.get("discount"))
    part.monthly = {c: fraction_to_decimal(a).normalize() for c, a in exact.items()}
    converted = [c for c in (convert_exact(a, cur, policy.reporting_currency, policy.fx_rates)
                             for cur, a in exact.items()) if c is not None]
    if converted:  # an amount in a currency without a rate is left out, as in the MRR
        part.converted = Part(sum(converted, Fraction(0)))
    return part


def _charge(charge: dict[str, Any], policy: RevenuePolicy) -> ChargePart:
    captured = get_int(charge, "amount_captured") or 0
    refunded = get_int(charge, "amount_refunded") or 0
    currency = lower(get_str(charge, "currency")) or "?"
    part = ChargePart(get_str(charge, "id") or "?", get_str(charge, "status") or "?",
                      captured, refunded, currency)
    net = captured - refunded
    if lower(part.status) == "succeeded" and net > 0 and min(captured, refunded) >= 0:
        converted = convert_exact(to_major_exact(Fraction(net), currency), currency,
                                  policy.reporting_currency, policy.fx_rates)
        part.converted = None if converted is None else Part(converted)
    return part


def _allocate(parts: list[Part | None], total: Decimal | None) -> None:
    """Cents per part that add up to `total`: each part rounded down, and the cents left
    over go to the parts with the largest remainders."""
    counted = [p for p in parts if p is not None]
    if total is None or not counted:
        return
    floors = [(p.exact * 100).__floor__() for p in counted]
    left = int(total * 100) - sum(floors)
    order = sorted(range(len(counted)), key=lambda i: counted[i].exact * 100 - floors[i],
                   reverse=True)
    for rank, index in enumerate(order):
        cents = floors[index] + (1 if rank < left else 0)
        counted[index].cents = Decimal(cents).scaleb(-2)


def _price_id(item: dict[str, Any]) -> str:
    price = item.get("price") or item.get("plan")
    if isinstance(price, str):
        return price
    return get_str(as_dict(price), "id") or "?"
