"""Defensive readers for Stripe JSON: odd or missing fields must never raise.

Every reader returns None for "absent or unusable"; callers decide whether that is
normal (an optional field) or an anomaly worth counting.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from revsync.revenue.money import parse_amount

from .model import StripeObject


def as_dict(value: object) -> StripeObject | None:
    """The value if it is a JSON object, else None.

    A dict comes back as it is: the definitions only read what they are given, and a
    copy of every subscription, item and charge read would cost more than the reading.
    """
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    return None


def get_dict(obj: Mapping[str, Any] | None, key: str) -> StripeObject | None:
    """``obj[key]`` when it is a JSON object."""
    if obj is None:
        return None
    return as_dict(obj.get(key))


def get_str(obj: Mapping[str, Any] | None, key: str) -> str | None:
    """``obj[key]`` when it is a non-empty string."""
    if obj is None:
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def get_int(obj: Mapping[str, Any] | None, key: str) -> int | None:
    """``obj[key]`` as an int (ints and integral numeric strings; never booleans)."""
    if obj is None:
        return None
    return as_int(obj.get(key))


def as_int(value: object) -> int | None:
    """An integer from an int or an integral numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_amount(value)
        except ValueError:
            return None
        if parsed == parsed.to_integral_value():
            return int(parsed)
    return None


def as_fraction(value: object) -> Fraction | None:
    """An exact rational from an int, a decimal string or a Decimal (never a float)."""
    if isinstance(value, int | str | Decimal) and not isinstance(value, bool):
        try:
            return Fraction(parse_amount(value))
        except ValueError:
            return None
    return None


def as_percent(value: object) -> Fraction | None:
    """A coupon's ``percent_off``; JSON decodes it as a float, read via its shortest repr."""
    if isinstance(value, float):
        return as_fraction(repr(value))
    return as_fraction(value)


def list_data(value: object) -> list[object] | None:
    """The elements of a Stripe list object (``{"data": [...]}``) or of a plain list."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, Mapping):
        data = value.get("data")
        if isinstance(data, list):
            return list(data)
    return None


def complete_list_data(value: object) -> list[object] | None:
    """The elements of a nested Stripe list that holds all of them; None when it is
    missing, odd, or says there is more (`has_more`): part of a list is never read as
    the whole of it."""
    if isinstance(value, Mapping) and value.get("has_more") is True:
        return None
    return list_data(value)


def lower(value: str | None) -> str | None:
    """Lowercased code (currencies, statuses) or None."""
    return value.strip().lower() if value else None
