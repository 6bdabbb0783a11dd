"""Which discounts reduce MRR, and by how much.

Rules: item discounts first, then subscription discounts (the customer's discount
only when the subscription has none). ``forever`` applies; ``repeating`` applies
while ``now < discount.end`` (a missing ``end`` applies: Stripe removes a discount
when it ends, so a present one without ``end`` is current); ``once`` never changes
MRR. ``percent_off`` multiplies; ``amount_off`` is per invoice, so it is turned into
a monthly amount with the billing interval's factor. Nothing goes below 0.

Discounts are applied in list order. A discount given as an id string (not expanded)
cannot be resolved: it is ignored and counted as ``discount_not_expanded``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from revsync.revenue.money import to_major_exact

from .model import Catalogue, StripeObject, Tally
from .read import as_dict, as_fraction, as_int, as_percent, get_dict, get_str, lower


def resolve_coupon(discount: object, catalogue: Catalogue, tally: Tally) -> StripeObject | None:
    """The coupon behind a discount: inline ``coupon`` (older shape) or ``source.coupon``.

    ``source.coupon`` may be an id (looked up in ``catalogue.coupons``) or an object.
    """
    if isinstance(discount, str):
        tally["discount_not_expanded"] += 1
        return None
    disc = as_dict(discount)
    if disc is None:
        tally["invalid_discount"] += 1
        return None
    coupon: object = disc.get("coupon")
    if coupon is None:
        coupon = (get_dict(disc, "source") or {}).get("coupon")
    if isinstance(coupon, str):
        coupon = catalogue.coupons.get(coupon)
    found = as_dict(coupon)
    if found is None:
        tally["coupon_unknown"] += 1
    return found


def discount_is_current(discount: Mapping[str, Any], coupon: Mapping[str, Any], now: int) -> bool:
    """Whether the discount changes MRR at ``now`` (unix seconds)."""
    duration = lower(get_str(coupon, "duration"))
    if duration == "forever":
        return True
    if duration == "repeating":
        end = as_int(discount.get("end"))
        return end is None or now < end
    return False  # "once" (and anything unknown) never changes MRR


def _amount_off_in(coupon: Mapping[str, Any], currency: str) -> Fraction | None:
    options = get_dict(get_dict(coupon, "currency_options"), currency)
    if options is not None and options.get("amount_off") is not None:
        return as_fraction(options.get("amount_off"))
    coupon_currency = lower(get_str(coupon, "currency"))
    if coupon_currency is None or coupon_currency == currency:
        return as_fraction(coupon.get("amount_off"))
    return None


def apply_coupon(
    monthly: Mapping[str, Fraction],
    coupon: Mapping[str, Any],
    factor: Fraction | None,
    tally: Tally,
) -> dict[str, Fraction]:
    """Reduce monthly amounts (currency -> major units) by one coupon, floor 0.

    ``factor`` converts an amount per billing period (per invoice) to per month.
    """
    result = dict(monthly)
    if coupon.get("percent_off") is not None:
        percent = as_percent(coupon.get("percent_off"))
        if percent is None or not 0 <= percent <= 100:
            tally["invalid_coupon"] += 1
            return result
        keep = (100 - percent) / 100
        return {cur: max(Fraction(0), amount * keep) for cur, amount in result.items()}
    if coupon.get("amount_off") is None and get_dict(coupon, "currency_options") is None:
        tally["invalid_coupon"] += 1
        return result
    if factor is None:
        tally["discount_interval_unknown"] += 1
        return result
    for currency, amount in result.items():
        off = _amount_off_in(coupon, currency)
        if off is None:
            tally["coupon_currency_mismatch"] += 1
            continue
        if off < 0:
            tally["invalid_coupon"] += 1
            continue
        result[currency] = max(Fraction(0), amount - to_major_exact(off, currency) * factor)
    return result


def apply_discounts(
    monthly: Mapping[str, Fraction],
    discounts: Sequence[object],
    factor: Fraction | None,
    catalogue: Catalogue,
    now: int,
    tally: Tally,
) -> dict[str, Fraction]:
    """Apply each current discount in order (see module docstring)."""
    result = dict(monthly)
    for discount in discounts:
        coupon = resolve_coupon(discount, catalogue, tally)
        disc = as_dict(discount)
        if coupon is None or disc is None or not discount_is_current(disc, coupon, now):
            continue
        result = apply_coupon(result, coupon, factor, tally)
    return result


def discount_list(value: object) -> list[object]:
    """A ``discounts`` field as a list (ids and/or objects); anything else is empty."""
    return list(value) if isinstance(value, list) else []


def subscription_level_discounts(
    subscription: Mapping[str, Any], customer_discount: object
) -> list[object]:
    """The subscription's discounts, else legacy ``discount``, else the customer's."""
    own = discount_list(subscription.get("discounts"))
    if own:
        return own
    legacy = as_dict(subscription.get("discount"))
    if legacy is not None:
        return [legacy]
    customer = as_dict(customer_discount)
    return [customer] if customer is not None else []
