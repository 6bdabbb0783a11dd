"""Value types shared by the revenue definitions (inputs, policy, the derived result)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any

from .money import fx_rate

StripeObject = dict[str, Any]
"""A Stripe API object as plain JSON (``StripeObject.to_dict()`` or a mirror-table row)."""

Tally = Counter[str]
"""Counts of things left out or malformed, keyed by a short reason, for the sync report."""

STRIPE_TAGS: frozenset[str] = frozenset(
    {"customer", "trial", "past-due", "cancelled", "churned", "saas.monthly", "saas.yearly"}
)


@dataclass(frozen=True)
class RevenuePolicy:
    """Workspace settings that change what the revenue definitions produce."""

    reporting_currency: str = "usd"
    fx_rates: Mapping[str, Decimal] = field(default_factory=dict)
    mrr_statuses: frozenset[str] = frozenset({"active", "trialing"})
    products: frozenset[str] = frozenset()  # empty = every product
    sync_without_payment: bool = False
    metadata_keys: tuple[str, ...] = ()

    # Read for every subscription and every (customer, currency) a derivation meets:
    # worked out once per policy, which the caller reads once per batch or event.
    @cached_property
    def counted_statuses(self) -> frozenset[str]:
        """`mrr_statuses` lowercased, as subscription statuses are compared."""
        return frozenset(s.lower() for s in self.mrr_statuses)

    def rate(self, currency: str) -> Fraction | None:
        """Reporting units per major unit of the (lowercased) currency, exact (`fx_rate`);
        None without a rate."""
        known = self._rates
        if currency not in known:
            found = fx_rate(currency, self.reporting_currency, self.fx_rates)
            known[currency] = None if found is None else Fraction(found)
        return known[currency]

    @cached_property
    def _rates(self) -> dict[str, Fraction | None]:
        return {}


@dataclass(frozen=True)
class Catalogue:
    """Account-wide objects that subscriptions reference by id but do not embed."""

    prices: Mapping[str, StripeObject]  # price id -> price WITH `tiers` (expand data.tiers)
    coupons: Mapping[str, StripeObject]  # coupon id -> coupon
    # What `pricing.price_terms` read from a price or plan, by (id, is a legacy plan), with
    # the object it read: items of many subscriptions embed copies of the same price, and
    # each item is read for its amount, its interval and its product.
    read_terms: dict[tuple[str, bool], tuple[StripeObject, Any]] = field(
        default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class CustomerFacts:
    """Everything the revenue definitions need about one Stripe customer."""

    customer: StripeObject
    subscriptions: Sequence[StripeObject]  # all statuses; discounts expanded (dicts) or ids
    charges: Sequence[StripeObject]
    paid_invoices: Sequence[StripeObject] = ()  # only needed when products are selected


@dataclass(frozen=True)
class Derived:
    """A subscriber's Stripe-derived attributes (the union of its eligible customers).

    ``unconverted`` counts amounts left out for lack of an FX rate (currency -> count).
    ``anomalies`` counts inputs that could not be read and therefore contributed 0
    (reason -> count, e.g. ``tiers_missing``, ``discount_not_expanded``); the reasons
    are listed in the ``revsync.revenue`` package docstring. It has a default so the
    documented constructor signature keeps working.
    """

    eligible: bool
    mrr: Decimal | None
    ltv: Decimal | None
    tags: frozenset[str]
    metadata: dict[str, str]
    eligible_customer_ids: tuple[str, ...]
    unconverted: Mapping[str, int]
    anomalies: Mapping[str, int] = field(default_factory=dict)
    # Customers left out, by `eligibility` reason -> count: a sync's report adds them up.
    skipped: Mapping[str, int] = field(default_factory=dict)
