"""Which Stripe events the sync handles, and which objects each one asks to refetch.

Pure: no I/O. The payload's object is only read for ids (the workflow refetches the
current state from Stripe, because payload order and same-second `created` values
cannot be trusted), so a stale or reordered payload cannot write stale values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson

from revsync.events.types import Target
from revsync.store.mirror import ref

HANDLED_TYPES: frozenset[str] = frozenset(
    {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.discount.created",
        "customer.discount.updated",
        "customer.discount.deleted",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_failed",
        "charge.succeeded",
        "charge.captured",
        "charge.refunded",
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
        "checkout.session.completed",
        "checkout.session.expired",
    }
)
# Events about money for a product: "products to watch" decides whether they count.
PRODUCT_STREAMS: frozenset[str] = frozenset({"subscriptions", "charges", "invoices"})
MAX_ID_LENGTH = 255
MAX_TIME = 2**40  # about year 36812; keeps `created` far inside a signed 64-bit column


class EventError(ValueError):
    """The body is not a Stripe event this endpoint can use."""


@dataclass(frozen=True)
class ParsedEvent:
    id: str
    type: str
    created: int
    targets: tuple[Target, ...]
    account: str | None = None  # a connected account's event, as Connect endpoints get it

    @property
    def handled(self) -> bool:
        return self.type in HANDLED_TYPES


def parse_event(body: bytes) -> ParsedEvent:
    """Validate an event's envelope and find what to refetch; raises `EventError`."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise EventError(f"body is not JSON: {error}") from None
    return event_from_dict(event)


def event_from_dict(event: Any) -> ParsedEvent:
    """The same checks for an event read from the Events API."""
    if not isinstance(event, dict):
        raise EventError("body is not a JSON object")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    if not _is_id(event_id, "evt_"):
        raise EventError("`id` must be an event id (evt_...)")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise EventError("`type` must be a non-empty string")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 <= created < MAX_TIME:
        raise EventError("`created` must be a unix timestamp")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise EventError("`data.object` must be an object")
    account = event.get("account")
    if account is not None and not _is_id(account, "acct_"):
        raise EventError("`account` must be a Stripe account id (acct_...)")
    found = targets(event_type, obj) if event_type in HANDLED_TYPES else ()
    return ParsedEvent(event_id, event_type, created, tuple(found), account)


def targets(event_type: str, obj: Mapping[str, Any]) -> list[Target]:
    """The objects whose current state decides what `event_type` changed."""
    kind = event_type.rsplit(".", 1)[0]
    found: list[Target | None]
    if kind == "customer":
        found = [_target("customers", obj.get("id"), "cus_")]
    elif kind == "customer.discount":
        found = [
            _target("customers", ref(obj.get("customer")), "cus_"),
            _target("subscriptions", ref(obj.get("subscription")), "sub_"),
        ]
    elif kind == "customer.subscription":
        found = [_target("subscriptions", obj.get("id"), "sub_")]
    elif kind == "invoice":
        found = [
            _target("invoices", obj.get("id"), "in_"),
            _target("subscriptions", _invoice_subscription(obj), "sub_"),
        ]
    elif kind == "charge":
        found = [_target("charges", obj.get("id"), "ch_")]
    elif kind in ("charge.refund", "refund"):
        found = [_target("charges", ref(obj.get("charge")), "ch_")]
    elif kind == "checkout.session":
        found = [_target("customers", ref(obj.get("customer")), "cus_")]
    else:
        found = []
    return [t for t in found if t is not None]


def _invoice_subscription(invoice: Mapping[str, Any]) -> str | None:
    """Since 2025 the subscription is under `parent.subscription_details`."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if isinstance(details, dict):
        return ref(details.get("subscription"))
    return ref(invoice.get("subscription"))


def _is_id(value: Any, prefix: str) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and value.startswith(prefix)
        and len(prefix) < len(value) <= MAX_ID_LENGTH
        and value.isascii()
        and all(c.isalnum() or c == "_" for c in value)
    )


def _target(stream: str, object_id: Any, prefix: str) -> Target | None:
    return Target(stream, object_id) if _is_id(object_id, prefix) else None
