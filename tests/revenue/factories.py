"""Stripe objects for tests, trimmed from Stripe's own examples (fixtures3.json, API 2026-10-28).

Each helper starts from the realistic shape and overrides only what a test is about.
"""

from __future__ import annotations

import copy
from typing import Any

from revsync.revenue import Catalogue, CustomerFacts

NOW = 1_800_000_000  # unix seconds used as "now" in tests
DAY = 86_400

_PRICE: dict[str, Any] = {
    "active": True,
    "billing_scheme": "per_unit",
    "created": 1721948530,
    "currency": "usd",
    "custom_unit_amount": None,
    "id": "price_1PgafmB7WZ01zgkW6dKueIc5",
    "livemode": False,
    "lookup_key": None,
    "metadata": {},
    "nickname": None,
    "object": "price",
    "product": "prod_QXg1hqf4jFNsqG",
    "recurring": {
        "interval": "month",
        "interval_count": 1,
        "meter": None,
        "usage_type": "licensed",
        "trial_period_days": None,
    },
    "tax_behavior": "unspecified",
    "tiers_mode": None,
    "transform_quantity": None,
    "type": "recurring",
    "unit_amount": 2000,
    "unit_amount_decimal": "2000",
}

_PLAN: dict[str, Any] = {
    "active": True,
    "amount": 2000,
    "amount_decimal": "2000",
    "billing_scheme": "per_unit",
    "created": 1234567890,
    "currency": "usd",
    "id": "price_1PgafmB7WZ01zgkW6dKueIc5",
    "interval": "month",
    "interval_count": 1,
    "livemode": False,
    "metadata": {},
    "meter": None,
    "nickname": None,
    "object": "plan",
    "product": "prod_QXg1hqf4jFNsqG",
    "tiers_mode": None,
    "transform_usage": None,
    "trial_period_days": None,
    "usage_type": "licensed",
}

_ITEM: dict[str, Any] = {
    "created": 1721954054,
    "discounts": [],
    "id": "si_QXhVnC2h0Jczwc",
    "metadata": {},
    "object": "subscription_item",
    "quantity": 1,
    "subscription": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw",
    "tax_rates": [],
    "current_period_end": 1724632454,
    "current_period_start": 1721954054,
}

_SUBSCRIPTION: dict[str, Any] = {
    "billing_cycle_anchor": 1234567890,
    "cancel_at": None,
    "canceled_at": None,
    "cancel_at_period_end": False,
    "collection_method": "charge_automatically",
    "created": 1234567890,
    "currency": "usd",
    "customer": "cus_QXg1o8vcGmoR32",
    "default_tax_rates": [],
    "discounts": [],
    "ended_at": None,
    "id": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw",
    "items": {"data": [], "has_more": False, "object": "list", "url": "/v1/subscription_items"},
    "latest_invoice": None,
    "livemode": False,
    "metadata": {},
    "object": "subscription",
    "schedule": None,
    "start_date": 1234567890,
    "status": "active",
    "trial_end": None,
    "trial_start": None,
}

_COUPON: dict[str, Any] = {
    "amount_off": None,
    "created": 1234567890,
    "currency": "usd",
    "duration": "forever",
    "duration_in_months": None,
    "id": "Z4OV52SU",
    "livemode": False,
    "max_redemptions": None,
    "metadata": {},
    "name": "25.5% off",
    "object": "coupon",
    "percent_off": 25.5,
    "redeem_by": None,
    "times_redeemed": 0,
    "valid": True,
}

_DISCOUNT: dict[str, Any] = {
    "checkout_session": None,
    "customer": "cus_QXg1o8vcGmoR32",
    "end": None,
    "id": "di_1Pgc6rB7WZ01zgkW7Al8Fal9",
    "invoice": None,
    "invoice_item": None,
    "object": "discount",
    "promotion_code": None,
    "start": 1234567890,
    "subscription": None,
    "subscription_item": None,
    "source": {"coupon": None, "type": "coupon"},
    "customer_account": None,
}

_CHARGE: dict[str, Any] = {
    "amount": 100,
    "amount_captured": 100,
    "amount_refunded": 0,
    "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40",
    "captured": True,
    "created": 1234567890,
    "currency": "usd",
    "customer": "cus_QXg1o8vcGmoR32",
    "description": "My First Test Charge (created for API docs)",
    "disputed": False,
    "id": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "livemode": False,
    "metadata": {},
    "object": "charge",
    "paid": True,
    "refunded": False,
    "status": "succeeded",
}

_INVOICE: dict[str, Any] = {
    "amount_due": 1000,
    "amount_paid": 1000,
    "amount_remaining": 0,
    "created": 1234567890,
    "currency": "usd",
    "customer": "cus_QXg1o8vcGmoR32",
    "id": "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
    "lines": {"data": [], "has_more": False, "object": "list", "url": "/v1/invoices/x/lines"},
    "object": "invoice",
    "status": "paid",
    "total": 1000,
}

_LINE: dict[str, Any] = {
    "amount": 1000,
    "currency": "usd",
    "id": "il_1Pgc6sB7WZ01zgkWFnxLrLCq",
    "object": "line_item",
    "quantity": 1,
    "pricing": {
        "type": "price_details",
        "price_details": {"price": "price_1", "product": "prod_QXg1hqf4jFNsqG"},
        "unit_amount_decimal": "1000",
    },
}

_CUSTOMER: dict[str, Any] = {
    "balance": 0,
    "created": 1234567890,
    "currency": "usd",
    "default_source": None,
    "delinquent": False,
    "description": None,
    "discount": None,
    "email": "jenny@example.com",
    "id": "cus_QXg1o8vcGmoR32",
    "livemode": False,
    "metadata": {},
    "name": "Jenny Rosen",
    "object": "customer",
}


def price(
    unit: str | None = "2000",
    *,
    id: str = "price_1",
    currency: str = "usd",
    interval: str = "month",
    interval_count: int = 1,
    usage_type: str = "licensed",
    product: str = "prod_A",
    **overrides: Any,
) -> dict[str, Any]:
    """A recurring price; ``unit`` is ``unit_amount_decimal`` in minor units."""
    obj = copy.deepcopy(_PRICE)
    obj.update(id=id, currency=currency, product=product, unit_amount_decimal=unit)
    obj["unit_amount"] = int(unit) if unit is not None and unit.lstrip("-").isdigit() else None
    obj["recurring"].update(interval=interval, interval_count=interval_count, usage_type=usage_type)
    obj.update(overrides)
    return obj


def tiered_price(mode: str, tiers: list[dict[str, Any]] | None, **kw: Any) -> dict[str, Any]:
    """A tiered price; ``tiers=None`` leaves the key out (as prices come without expand)."""
    obj = price(None, billing_scheme="tiered", tiers_mode=mode, **kw)
    if tiers is not None:
        obj["tiers"] = tiers
    return obj


def tier(up_to: int | None, unit: int | None = None, flat: int | None = None) -> dict[str, Any]:
    """One tier as Stripe returns it."""
    return {
        "flat_amount": flat,
        "flat_amount_decimal": None if flat is None else str(flat),
        "unit_amount": unit,
        "unit_amount_decimal": None if unit is None else str(unit),
        "up_to": up_to,
    }


def plan(amount: int = 2000, **overrides: Any) -> dict[str, Any]:
    """A legacy plan object."""
    obj = copy.deepcopy(_PLAN)
    obj.update(amount=amount, amount_decimal=str(amount))
    obj.update(overrides)
    return obj


def item(
    price_obj: dict[str, Any] | str | None = None,
    quantity: int | None = 1,
    discounts: list[Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A subscription item with ``price`` (and no legacy ``plan`` unless overridden)."""
    obj = copy.deepcopy(_ITEM)
    obj["price"] = price() if price_obj is None else price_obj
    obj["quantity"] = quantity
    obj["discounts"] = discounts or []
    obj.update(overrides)
    return obj


def subscription(
    *items: dict[str, Any],
    id: str = "sub_1",
    status: str = "active",
    discounts: list[Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A subscription listed with ``status=all`` and discounts expanded."""
    obj = copy.deepcopy(_SUBSCRIPTION)
    obj.update(id=id, status=status, discounts=discounts or [])
    obj["items"]["data"] = list(items) if items else [item()]
    obj.update(overrides)
    return obj


def coupon(
    *,
    percent_off: float | None = None,
    amount_off: int | None = None,
    duration: str = "forever",
    currency: str | None = "usd",
    id: str = "COUPON",
    **overrides: Any,
) -> dict[str, Any]:
    obj = copy.deepcopy(_COUPON)
    obj.update(
        id=id, percent_off=percent_off, amount_off=amount_off, duration=duration, currency=currency
    )
    obj.update(overrides)
    return obj


def discount(coupon_ref: dict[str, Any] | str, end: int | None = None, **kw: Any) -> dict[str, Any]:
    """An expanded discount; its coupon is at ``source.coupon`` (an id or an object)."""
    obj = copy.deepcopy(_DISCOUNT)
    obj["source"]["coupon"] = coupon_ref
    obj["end"] = end
    obj.update(kw)
    return obj


def charge(
    captured: int = 100,
    refunded: int = 0,
    *,
    status: str = "succeeded",
    currency: str = "usd",
    id: str = "ch_1",
) -> dict[str, Any]:
    obj = copy.deepcopy(_CHARGE)
    obj.update(
        id=id,
        amount=max(captured, 100),
        amount_captured=captured,
        amount_refunded=refunded,
        status=status,
        currency=currency,
        captured=captured > 0,
        refunded=refunded > 0 and refunded >= captured,
    )
    return obj


def invoice(amount_paid: int = 1000, *products: str, status: str = "paid") -> dict[str, Any]:
    obj = copy.deepcopy(_INVOICE)
    obj.update(amount_paid=amount_paid, status=status)
    lines = []
    for index, product in enumerate(products or ("prod_A",)):
        line = copy.deepcopy(_LINE)
        line["id"] = f"il_{index}"
        line["pricing"]["price_details"]["product"] = product
        lines.append(line)
    obj["lines"]["data"] = lines
    return obj


def customer(
    id: str = "cus_1",
    email: str | None = "jenny@example.com",
    *,
    created: int = 1234567890,
    metadata: dict[str, Any] | None = None,
    discount: dict[str, Any] | None = None,
) -> dict[str, Any]:
    obj = copy.deepcopy(_CUSTOMER)
    obj.update(id=id, email=email, created=created, metadata=metadata or {}, discount=discount)
    return obj


def facts(
    *subscriptions: dict[str, Any],
    charges: list[dict[str, Any]] | None = None,
    invoices: list[dict[str, Any]] | None = None,
    cust: dict[str, Any] | None = None,
) -> CustomerFacts:
    """A paying customer by default (one $1.00 succeeded charge)."""
    return CustomerFacts(
        customer=cust or customer(),
        subscriptions=list(subscriptions),
        charges=[charge()] if charges is None else charges,
        paid_invoices=invoices or [],
    )


def catalogue(
    prices: list[dict[str, Any]] | None = None, coupons: list[dict[str, Any]] | None = None
) -> Catalogue:
    return Catalogue(
        prices={p["id"]: p for p in prices or []}, coupons={c["id"]: c for c in coupons or []}
    )


EMPTY = catalogue()
