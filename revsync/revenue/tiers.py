"""Quantity transforms and tiered (volume / graduated) pricing, in minor units."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .read import as_dict, as_fraction, as_int, get_int, get_str, lower


def transformed_quantity(quantity: int, transform: Mapping[str, Any] | None) -> int | None:
    """Apply ``transform_quantity`` (divide_by, round up|down); None when malformed."""
    if transform is None:
        return quantity
    divide_by = get_int(transform, "divide_by")
    rounding = lower(get_str(transform, "round"))
    if divide_by is None or divide_by <= 0:
        return None
    if rounding == "up":
        return -(-quantity // divide_by)
    if rounding == "down":
        return quantity // divide_by
    return None


_INFINITE = -1


def _tier_bound(tier: Mapping[str, Any]) -> int | None:
    """``up_to`` as an int, ``_INFINITE`` for null/"inf", None when malformed."""
    up_to = tier.get("up_to")
    if up_to is None or up_to == "inf":
        return _INFINITE
    bound = as_int(up_to)
    return None if bound is None or bound < 0 else bound


def _tier_amount(tier: Mapping[str, Any], decimal_key: str, int_key: str) -> Fraction | None:
    raw = tier.get(decimal_key)
    if raw is None:
        raw = tier.get(int_key)
    if raw is None:
        return Fraction(0)
    value = as_fraction(raw)
    return None if value is None or value < 0 else value


def tiered_amount(tiers: list[object], mode: str | None, quantity: int) -> Fraction | None:
    """Amount in minor units for ``quantity`` on tiered pricing; None when malformed.

    A tier is reached when the quantity exceeds the previous tier's ``up_to``, so a
    quantity of 0 reaches no tier and costs 0 (no flat fee). Volume: the one tier
    containing the quantity, unit x quantity + its flat amount. Graduated: every
    reached tier's slice x unit + its flat amount.
    """
    parsed: list[tuple[int | None, Fraction, Fraction]] = []
    for raw in tiers:
        tier = as_dict(raw)
        if tier is None:
            return None
        bound = _tier_bound(tier)
        unit = _tier_amount(tier, "unit_amount_decimal", "unit_amount")
        flat = _tier_amount(tier, "flat_amount_decimal", "flat_amount")
        if bound is None or unit is None or flat is None:
            return None
        parsed.append((None if bound == _INFINITE else bound, unit, flat))
    if not parsed:
        return None
    parsed.sort(key=lambda t: (t[0] is None, t[0] or 0))
    if quantity == 0:
        return Fraction(0)
    if mode == "volume":
        for bound, unit, flat in parsed:
            if bound is None or quantity <= bound:
                return unit * quantity + flat
        return None  # every tier is bounded below the quantity: malformed
    if mode == "graduated":
        total = Fraction(0)
        previous = 0
        for bound, unit, flat in parsed:
            if quantity <= previous:
                break
            upper = quantity if bound is None else min(quantity, bound)
            total += unit * (upper - previous) + flat
            if bound is None:
                break
            previous = bound
        if parsed[-1][0] is not None and quantity > parsed[-1][0]:
            return None
        return total
    return None
