"""Builders that turn compact stored records into full Stripe objects.

The store keeps only the fields that differ from a cleaned fixture template (a
"record"); a builder merges record over template at response time. Templates are
shared and never mutated, so a served object costs one dict merge and the store stays
small enough for a million objects. Every built object has exactly the keys of
Stripe's example object for its type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .fixtures import fixture

Record = dict[str, Any]
StripeObject = dict[str, Any]

API_VERSION: Final = "2026-10-28.endive"

_NULL_ADDRESS: Final[dict[str, Any]] = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def _template(object_type: str, **overrides: Any) -> StripeObject:
    """A fixture with its placeholder values replaced by realistic defaults."""
    base = fixture(object_type)
    unknown = set(overrides) - set(base)
    if unknown:
        raise KeyError(f"{object_type} template has no keys {sorted(unknown)}")
    base.update(overrides)
    return base


BASES: Final[dict[str, StripeObject]] = {
    "customer": _template(
        "customer",
        address=None,
        currency=None,
        discount=None,
        shipping=None,
        invoice_prefix="FAKE0000",
    ),
    "subscription": _template(
        "subscription",
        automatic_tax={"enabled": False, "liability": None, "disabled_reason": None},
        billing_cycle_anchor_config=None,
        billing_mode={"type": "classic", "flexible": None},
        billing_schedules=[],
        billing_thresholds=None,
        cancel_at=None,
        cancel_at_period_end=False,
        canceled_at=None,
        ended_at=None,
        managed_payments={"enabled": False},
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        pending_invoice_item_interval=None,
        pending_update=None,
        transfer_data=None,
        trial_end=None,
        trial_start=None,
    ),
    "subscription_item": _template("subscription_item", billing_thresholds=None),
    "price": _template(
        "price", custom_unit_amount=None, transform_quantity=None, product="prod_unknown"
    ),
    "plan": _template("plan"),
    "product": _template(
        "product",
        default_price=None,
        description=None,
        package_dimensions=None,
        type="service",
    ),
    "coupon": _template("coupon", duration_in_months=None, percent_off=None, redeem_by=None),
    "discount": _template("discount", customer=None, end=None),
    "charge": _template(
        "charge",
        amount_captured=0,
        balance_transaction=None,
        billing_details={
            "address": dict(_NULL_ADDRESS),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        captured=True,
        description=None,
        payment_method="pm_card_visa",
        receipt_url=None,
        shipping=None,
        source=None,
        transfer_data=None,
    ),
    "refund": _template("refund", balance_transaction=None),
    "invoice": _template(
        "invoice",
        account_name="Fake Stripe",
        amount_overpaid=0,
        billing_reason="subscription_cycle",
        due_date=None,
        from_invoice=None,
        last_finalization_error=None,
        next_payment_attempt=None,
        parent=None,
        shipping_cost=None,
        shipping_details=None,
        status="paid",
        webhooks_delivered_at=None,
    ),
    "line_item": _template("line_item", description=None, parent=None),
    "event": _template("event", api_version=API_VERSION),
    "webhook_endpoint": _template("webhook_endpoint", api_version=None, description=None,
                                  enabled_events=[]),
}

_OUTCOME_SUCCEEDED: Final[dict[str, Any]] = {
    "advice_code": None,
    "network_advice_code": None,
    "network_decline_code": None,
    "network_status": "approved_by_network",
    "reason": None,
    "seller_message": "Payment complete.",
    "type": "authorized",
}
_OUTCOME_FAILED: Final[dict[str, Any]] = {
    "advice_code": "try_again_later",
    "network_advice_code": None,
    "network_decline_code": None,
    "network_status": "declined_by_network",
    "reason": "generic_decline",
    "seller_message": "The bank did not return any further details with this decline.",
    "type": "issuer_declined",
}

#: Record keys a builder accepts beyond the fixture's, per type (compact helpers).
EXTRA_RECORD_KEYS: Final[dict[str, frozenset[str]]] = {
    "price": frozenset({"tiers"}),
}
_LINE_HELPER_KEYS: Final = frozenset({"price", "product", "subscription_item"})


def merge(object_type: str, record: Mapping[str, Any]) -> StripeObject:
    """Template overlaid with the record: the generic builder for simple types."""
    return {**BASES[object_type], **record}


def list_object(data: list[Any], url: str, has_more: bool = False) -> dict[str, Any]:
    """Stripe's list envelope."""
    return {"data": data, "has_more": has_more, "object": "list", "url": url}


def nested_list(data: list[Any], url: str) -> dict[str, Any]:
    """A list embedded in an object (``subscription.items``, ``invoice.lines``): Stripe's
    envelope plus ``total_count``, which Stripe sends on these lists (its OpenAPI example
    objects leave it out). Built whole; the HTTP layer cuts it to what Stripe embeds
    (:mod:`.nested_lists`), so the Python API and the tests' oracles see every entry."""
    return {**list_object(data, url), "total_count": len(data)}


def build_deleted_customer(customer_id: str) -> StripeObject:
    """What Stripe returns when a deleted customer is retrieved."""
    return {"deleted": True, "id": customer_id, "object": "customer"}


def build_customer(record: Mapping[str, Any], discount: StripeObject | None) -> StripeObject:
    """A customer; its discount is always an embedded object, as in Stripe."""
    obj = merge("customer", record)
    obj["discount"] = discount
    return obj


def build_discount(record: Mapping[str, Any]) -> StripeObject:
    """A discount; its coupon is the id at ``source.coupon``."""
    return merge("discount", record)


def build_price(record: Mapping[str, Any], *, with_tiers: bool) -> StripeObject:
    """A price; ``tiers`` is present only when expanded, as Stripe does."""
    obj = merge("price", record)
    tiers = obj.pop("tiers", None)
    if "unit_amount_decimal" not in record:
        unit = obj["unit_amount"]
        obj["unit_amount_decimal"] = None if unit is None else str(unit)
    if with_tiers:
        obj["tiers"] = tiers if obj["billing_scheme"] == "tiered" else None
    return obj


def build_plan(price: Mapping[str, Any]) -> StripeObject:
    """The legacy ``plan`` mirror Stripe still puts on subscription items."""
    recurring = price["recurring"] or {}
    return {
        **BASES["plan"],
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "id": price["id"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": price["livemode"],
        "metadata": price["metadata"],
        "meter": recurring.get("meter"),
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": price["transform_quantity"],
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def build_subscription_item(
    record: Mapping[str, Any],
    *,
    subscription_id: str,
    price: StripeObject,
    plan: StripeObject,
    discounts: list[Any],
) -> StripeObject:
    """A subscription item with its (shared) price and plan objects embedded."""
    obj = {**BASES["subscription_item"], **record}
    obj["subscription"] = subscription_id
    obj["price"] = price
    obj["plan"] = plan
    obj["discounts"] = discounts
    return obj


def build_subscription(
    record: Mapping[str, Any], *, items: list[StripeObject], discounts: list[Any]
) -> StripeObject:
    """A subscription; items are already built by the caller."""
    obj = merge("subscription", record)
    sub_id = obj["id"]
    obj["items"] = nested_list(items, f"/v1/subscription_items?subscription={sub_id}")
    obj["discounts"] = discounts
    return obj


def build_charge(record: Mapping[str, Any], refunds: list[StripeObject]) -> StripeObject:
    """A charge; fields the record leaves out are derived from its status and amounts."""
    obj = merge("charge", record)
    status = obj["status"]
    succeeded = status == "succeeded"
    if "paid" not in record:
        obj["paid"] = succeeded
    if "captured" not in record:
        obj["captured"] = succeeded
    if "amount_captured" not in record:
        obj["amount_captured"] = obj["amount"] if succeeded and obj["captured"] else 0
    if "refunded" not in record:
        captured = obj["amount_captured"]
        obj["refunded"] = captured > 0 and obj["amount_refunded"] >= captured
    if "balance_transaction" not in record and succeeded and obj["captured"]:
        obj["balance_transaction"] = "txn_" + obj["id"][3:]
    if "outcome" not in record:
        obj["outcome"] = _OUTCOME_FAILED if status == "failed" else _OUTCOME_SUCCEEDED
    if status == "failed":
        if "failure_code" not in record:
            obj["failure_code"] = "card_declined"
        if "failure_message" not in record:
            obj["failure_message"] = "Your card was declined."
    obj["refunds"] = list_object(refunds, f"/v1/charges/{obj['id']}/refunds")
    return obj


def build_refund(record: Mapping[str, Any]) -> StripeObject:
    """A refund."""
    return merge("refund", record)


def build_line_item(
    record: Mapping[str, Any], *, invoice_id: str, currency: str
) -> StripeObject:
    """An invoice line; compact ``price``/``product``/``subscription_item`` fill
    ``pricing.price_details`` and ``parent.subscription_item_details``."""
    obj = {**BASES["line_item"], "currency": currency}
    obj.update((k, v) for k, v in record.items() if k not in _LINE_HELPER_KEYS)
    obj["invoice"] = invoice_id
    if "subtotal" not in record:
        obj["subtotal"] = obj["amount"]
    if "pricing" not in record:
        quantity = obj["quantity"] or 1
        obj["pricing"] = {
            "price_details": {"price": record.get("price"), "product": record.get("product")},
            "type": "price_details",
            "unit_amount_decimal": str(obj["amount"] // quantity),
        }
    if "parent" not in record:
        obj["parent"] = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": obj["subscription"],
                "subscription_item": record.get("subscription_item"),
            },
            "type": "subscription_item_details",
        }
    return obj


def build_invoice(record: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> StripeObject:
    """An invoice with its lines; totals and parent are derived when not recorded."""
    obj = merge("invoice", record)
    inv_id = obj["id"]
    currency = obj["currency"]
    built = [build_line_item(line, invoice_id=inv_id, currency=currency) for line in lines]
    obj["lines"] = nested_list(built, f"/v1/invoices/{inv_id}/lines")
    due = obj["amount_due"]
    for key in ("subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"):
        if key not in record:
            obj[key] = due
    if "amount_remaining" not in record:
        obj["amount_remaining"] = max(due - obj["amount_paid"], 0)
    created = obj["created"]
    for key in ("effective_at", "period_end", "period_start", "webhooks_delivered_at"):
        if key not in record:
            obj[key] = created
    if "status_transitions" not in record:
        status = obj["status"]
        obj["status_transitions"] = {
            "finalized_at": None if status == "draft" else created,
            "marked_uncollectible_at": created if status == "uncollectible" else None,
            "paid_at": created if status == "paid" else None,
            "voided_at": created if status == "void" else None,
        }
    if "parent" not in record:
        sub = next((line.get("subscription") for line in lines if line.get("subscription")), None)
        if sub is not None:
            obj["parent"] = {
                "quote_details": None,
                "subscription_details": {"metadata": None, "subscription": sub},
                "type": "subscription_details",
            }
    return obj


def build_event(record: Mapping[str, Any]) -> StripeObject:
    """An event (records hold the full snapshot)."""
    return merge("event", record)


CONNECT_APPLICATION = "ca_fake_platform"


def build_webhook_endpoint(record: Mapping[str, Any], *, with_secret: bool) -> StripeObject:
    """A webhook endpoint; Stripe shows ``secret`` only in the create response."""
    obj = merge("webhook_endpoint", record)
    secret = obj.pop("secret", None)
    # A Connect endpoint belongs to the platform's Connect application, as Stripe shows it.
    obj["application"] = CONNECT_APPLICATION if obj.pop("connect", False) else None
    if with_secret:
        obj["secret"] = secret
    return obj


def build_deleted_webhook_endpoint(endpoint_id: str) -> StripeObject:
    """What ``DELETE /v1/webhook_endpoints/{id}`` returns."""
    return {**fixture("deleted_webhook_endpoint"), "id": endpoint_id}
