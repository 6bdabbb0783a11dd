"""Stripe's own example objects, bundled so the fake works on a clean clone.

Every object the fake serves is built from these templates, which is what keeps its
responses carrying exactly the keys the real API (and the stripe SDK) uses.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

#: The resource types bundled in ``fixtures.json``.
FIXTURE_TYPES = (
    "customer",
    "deleted_customer",
    "subscription",
    "subscription_item",
    "price",
    "plan",
    "product",
    "coupon",
    "discount",
    "charge",
    "invoice",
    "line_item",
    "refund",
    "event",
    "webhook_endpoint",
    "deleted_webhook_endpoint",
)


@cache
def _load() -> dict[str, dict[str, Any]]:
    """Read the bundled fixtures once per process."""
    raw = resources.files(__package__).joinpath("fixtures.json").read_text("utf-8")
    data: dict[str, dict[str, Any]] = json.loads(raw)["resources"]
    return data


def fixture(object_type: str) -> dict[str, Any]:
    """A private deep copy of Stripe's example object for ``object_type``."""
    return copy.deepcopy(_load()[object_type])


def fixture_keys(object_type: str) -> frozenset[str]:
    """The top-level keys Stripe's example object has, for shape checks in tests."""
    return frozenset(_load()[object_type])
