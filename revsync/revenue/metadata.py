"""Carry selected Stripe metadata keys into subscriber attributes.

A key's value comes from the customer's metadata, else from its newest subscription
(by ``created``, ties by id) that has the key. With several Stripe customers on one
email, the newest customer (by ``created``, ties by id) that yields a value wins, so
the result never depends on input order. Values stay strings (a non-string value is
stringified; null means absent). A key colliding case-insensitively with a built-in
attribute (``mrr``, ``ltv``, ``email``, ``tag``) is stored as ``stripe_<key>``; if two
selected keys end up with the same attribute name, the first in
``policy.metadata_keys`` wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .model import CustomerFacts
from .read import as_dict, get_dict, get_int, get_str

RESERVED_ATTRIBUTES: frozenset[str] = frozenset({"mrr", "ltv", "email", "tag"})


def attribute_name(key: str) -> str:
    """The subscriber attribute a metadata key is stored under."""
    return f"stripe_{key}" if key.strip().casefold() in RESERVED_ATTRIBUTES else key


def _newest_first_key(obj: Mapping[str, Any]) -> tuple[int, str]:
    return (-(get_int(obj, "created") or 0), get_str(obj, "id") or "")


def _value(metadata: Mapping[str, Any] | None, key: str) -> str | None:
    if metadata is None or metadata.get(key) is None:
        return None
    value = metadata[key]
    return value if isinstance(value, str) else str(value)


def customer_metadata_value(facts: CustomerFacts, key: str) -> str | None:
    """The key from the customer's metadata, else from its newest subscription having it."""
    found = _value(get_dict(facts.customer, "metadata"), key)
    if found is not None:
        return found
    subscriptions = [s for s in (as_dict(x) for x in facts.subscriptions) if s is not None]
    for subscription in sorted(subscriptions, key=_newest_first_key):
        found = _value(get_dict(subscription, "metadata"), key)
        if found is not None:
            return found
    return None


def carried_metadata(customers: Sequence[CustomerFacts], keys: Sequence[str]) -> dict[str, str]:
    """Selected metadata of a subscriber's (eligible) customers, collision-renamed."""
    ordered = sorted(customers, key=lambda f: _newest_first_key(f.customer))
    result: dict[str, str] = {}
    for key in keys:
        name = attribute_name(key)
        if name in result:
            continue
        for facts in ordered:
            value = customer_metadata_value(facts, key)
            if value is not None:
                result[name] = value
                break
    return result
