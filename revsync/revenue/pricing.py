"""What one subscription item bills per period, and how to turn a period into a month.

Reads ``item.price`` (or the legacy ``item.plan`` mirror), applies
``transform_quantity``, prices per-unit, volume and graduated tiers, and normalises
billing intervals to a month. Anything unreadable contributes 0 and is counted in a
``Tally`` under a reason key, never raised.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

from revsync.revenue.money import to_major_exact

from .model import Catalogue, StripeObject, Tally
from .read import as_dict, as_fraction, as_int, get_dict, get_str, lower
from .tiers import tiered_amount, transformed_quantity

# interval -> (numerator, denominator) of "months per ... " as a multiplier of the
# amount per period: month /1, year /12, week x52/12, day x365/12.
_PER_MONTH: Mapping[str, Fraction] = {
    "month": Fraction(1),
    "year": Fraction(1, 12),
    "week": Fraction(52, 12),
    "day": Fraction(365, 12),
}


@functools.lru_cache(maxsize=256)  # a handful of (interval, count) pairs, met per item
def monthly_factor(interval: str | None, interval_count: int | None) -> Fraction | None:
    """Multiplier from "amount per billing period" to "amount per month"; None if unknown.

    $120/year -> 10, $10/week -> 43.33, $1/day -> 30.42, $30 every 3 months -> 10.
    ``interval_count`` None means 1 (Stripe's default).
    """
    base = _PER_MONTH.get(lower(interval) or "")
    count = 1 if interval_count is None else interval_count
    if base is None or count <= 0:
        return None
    return base / count


@dataclass(frozen=True)
class PriceTerms:
    """The billing-relevant part of a price or legacy plan, read leniently."""

    price_id: str | None
    product: str | None
    currency: str | None
    recurring: bool
    interval: str | None
    interval_count: object
    usage_type: str
    billing_scheme: str
    tiers_mode: str | None
    unit_amount: object
    tiers: object
    transform: StripeObject | None

    # What the definitions read from the terms of every item that uses them, worked out
    # once per price: the terms are kept per price id (`_read_once`).
    @cached_property
    def month_factor(self) -> Fraction | None:
        """Amount per period -> per month (`monthly_factor`); None if unknown."""
        count = 1 if self.interval_count is None else as_int(self.interval_count)
        return None if count is None else monthly_factor(self.interval, count)

    @cached_property
    def billing_interval(self) -> tuple[str, int] | None:
        """(interval, interval_count) billed on, when readable (`item_interval`)."""
        if not self.recurring or self.interval is None:
            return None
        count = 1 if self.interval_count is None else as_int(self.interval_count)
        if count is None or count <= 0:
            return None
        return (lower(self.interval) or "", count)

    @cached_property
    def unit(self) -> Fraction | None:
        """`unit_amount` as an exact number; None when absent or unreadable."""
        return as_fraction(self.unit_amount)


@dataclass(frozen=True)
class ItemCharge:
    """One item's undiscounted amount per billing period, in major units of ``currency``."""

    currency: str
    per_period: Fraction
    factor: Fraction  # per_period * factor = per month
    product: str | None


def _product_id(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    return get_str(as_dict(value), "id")


def _from_price(price: StripeObject) -> PriceTerms:
    recurring = get_dict(price, "recurring")
    unit = price.get("unit_amount_decimal")
    if unit is None:
        unit = price.get("unit_amount")
    return PriceTerms(
        price_id=get_str(price, "id"),
        product=_product_id(price.get("product")),
        currency=lower(get_str(price, "currency")),
        recurring=recurring is not None,
        interval=get_str(recurring, "interval"),
        interval_count=None if recurring is None else recurring.get("interval_count"),
        usage_type=lower(get_str(recurring, "usage_type")) or "licensed",
        billing_scheme=lower(get_str(price, "billing_scheme")) or "per_unit",
        tiers_mode=lower(get_str(price, "tiers_mode")),
        unit_amount=unit,
        tiers=price.get("tiers"),
        transform=get_dict(price, "transform_quantity"),
    )


def _from_plan(plan: StripeObject) -> PriceTerms:
    amount = plan.get("amount_decimal")
    if amount is None:
        amount = plan.get("amount")
    return PriceTerms(
        price_id=get_str(plan, "id"),
        product=_product_id(plan.get("product")),
        currency=lower(get_str(plan, "currency")),
        recurring=True,
        interval=get_str(plan, "interval"),
        interval_count=plan.get("interval_count"),
        usage_type=lower(get_str(plan, "usage_type")) or "licensed",
        billing_scheme=lower(get_str(plan, "billing_scheme")) or "per_unit",
        tiers_mode=lower(get_str(plan, "tiers_mode")),
        unit_amount=amount,
        tiers=plan.get("tiers"),
        transform=get_dict(plan, "transform_usage"),
    )


def price_terms(item: Mapping[str, Any], catalogue: Catalogue) -> PriceTerms | None:
    """``item.price`` (an object, or an id looked up in the catalogue), else legacy ``plan``."""
    price: object = item.get("price")
    if isinstance(price, str):
        price = catalogue.prices.get(price)
    price_obj = as_dict(price)
    if price_obj is not None:
        return _read_once(price_obj, False, catalogue)
    plan: object = item.get("plan")
    if isinstance(plan, str):
        plan = catalogue.prices.get(plan)
    plan_obj = as_dict(plan)
    if plan_obj is None:
        return None
    return _read_once(plan_obj, get_str(plan_obj, "object") != "price", catalogue)


def _read_once(obj: StripeObject, legacy_plan: bool, catalogue: Catalogue) -> PriceTerms:
    """The terms of a price (or legacy plan), read again only when the object differs from
    the one last read under its id: an equal object has the same terms, and comparing
    two copies costs less than reading one."""
    price_id = obj.get("id")
    if not isinstance(price_id, str):
        return _from_plan(obj) if legacy_plan else _from_price(obj)
    key = (price_id, legacy_plan)
    known = catalogue.read_terms.get(key)
    if known is not None and (known[0] is obj or known[0] == obj):
        terms: PriceTerms = known[1]
        return terms
    terms = _from_plan(obj) if legacy_plan else _from_price(obj)
    catalogue.read_terms[key] = (obj, terms)
    return terms


def item_product(item: Mapping[str, Any], catalogue: Catalogue) -> str | None:
    """Product id of an item's price (for "products to sync")."""
    terms = price_terms(item, catalogue)
    return None if terms is None else terms.product


def item_interval(item: Mapping[str, Any], catalogue: Catalogue) -> tuple[str, int] | None:
    """(interval, interval_count) an item bills on, when readable."""
    terms = price_terms(item, catalogue)
    return None if terms is None else terms.billing_interval


def item_amount_per_period(
    item: Mapping[str, Any],
    catalogue: Catalogue,
    tally: Tally,
    default_currency: str | None = None,
) -> ItemCharge | None:
    """The undiscounted amount one item bills per period; None if it contributes nothing.

    Metered items and non-recurring prices contribute 0 (metered: not an anomaly).
    Missing ``quantity`` is read as 1 and counted (``quantity_missing``); every
    other unreadable input makes the item contribute 0 and is counted by reason.
    """
    terms = price_terms(item, catalogue)
    if terms is None:
        tally["price_missing"] += 1
        return None
    if not terms.recurring:
        tally["price_not_recurring"] += 1
        return None
    factor = terms.month_factor
    if factor is None:
        tally["unknown_interval"] += 1
        return None
    if terms.usage_type == "metered":
        return None
    currency = terms.currency or lower(default_currency)
    if currency is None:
        tally["currency_missing"] += 1
        return None
    raw_quantity = item.get("quantity")
    if raw_quantity is None:
        tally["quantity_missing"] += 1
        quantity: int | None = 1
    else:
        quantity = as_int(raw_quantity)
    if quantity is None or quantity < 0:
        tally["invalid_quantity"] += 1
        return None
    quantity = transformed_quantity(quantity, terms.transform)
    if quantity is None:
        tally["invalid_transform_quantity"] += 1
        return None
    minor = _minor_amount(terms, quantity, catalogue, tally)
    if minor is None:
        return None
    per_period = to_major_exact(minor, currency)
    return ItemCharge(
        currency=currency, per_period=per_period, factor=factor, product=terms.product
    )


def _minor_amount(
    terms: PriceTerms, quantity: int, catalogue: Catalogue, tally: Tally
) -> Fraction | None:
    if terms.billing_scheme == "tiered":
        tiers = terms.tiers
        if not isinstance(tiers, list) and terms.price_id is not None:
            listed = as_dict(catalogue.prices.get(terms.price_id))
            tiers = None if listed is None else listed.get("tiers")
        if not isinstance(tiers, list):
            tally["tiers_missing"] += 1
            return None
        amount = tiered_amount(tiers, terms.tiers_mode, quantity)
        if amount is None:
            tally["invalid_tiers"] += 1
        return amount
    if terms.unit_amount is None:
        tally["amount_missing"] += 1
        return None
    unit = terms.unit
    if unit is None:
        tally["invalid_amount"] += 1
        return None
    if unit < 0:
        tally["negative_amount"] += 1
        return None
    return unit * quantity
