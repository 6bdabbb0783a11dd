"""Which catalogue entries some Stripe objects can refer to, found without deriving.

An event re-derives a handful of subscribers; loading the workspace's whole price and
coupon catalogue for them costs more than the rest of the event on an account with
thousands of prices. Every id the definitions may look up (`item.price`, a legacy
`item.plan`, a tiered price's own id, `discount.coupon`, `discount.source.coupon`) is a
string under one of these keys, or the id of an embedded price or plan, at any depth.
Collecting them all over-approximates, which is harmless: a catalogue entry not
referenced is never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Keys whose string value is a price id, and the `object` types that are prices.
PRICES = frozenset({"price", "plan"})


def catalogue_references(objects: Iterable[Any]) -> tuple[set[str], set[str]]:
    """(price ids, coupon ids) anything in `objects` may look up in the catalogue."""
    prices: set[str] = set()
    coupons: set[str] = set()
    pending = list(objects)
    while pending:
        value = pending.pop()
        if isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, dict):
            if value.get("object") in PRICES and isinstance(value.get("id"), str):
                prices.add(value["id"])
            for key, inner in value.items():
                if isinstance(inner, str):
                    if key in PRICES:
                        prices.add(inner)
                    elif key == "coupon":
                        coupons.add(inner)
                elif isinstance(inner, dict | list):
                    pending.append(inner)
    return prices, coupons
