"""Stripe objects put on the fake account by hand, so a test can compute its figures."""

from __future__ import annotations

from typing import Any

from fake_stripe import FakeStripe


def monthly(fake: FakeStripe, cents: int, currency: str = "usd", interval: str = "month") -> str:
    price = fake.put("price", {"unit_amount": cents, "currency": currency, "product": "prod_A",
                               "recurring": {"interval": interval, "interval_count": 1,
                                             "usage_type": "licensed"}})
    return str(price["id"])


def customer(fake: FakeStripe, email: str | None, **fields: Any) -> str:
    return str(fake.put("customer", {"email": email, **fields})["id"])


def subscription(fake: FakeStripe, cus: str, status: str, price: str, quantity: int = 1,
                 **fields: Any) -> None:
    fake.put("subscription", {"customer": cus, "status": status, **fields,
                              "items": {"data": [{"price": price, "quantity": quantity}]}})


def charge(fake: FakeStripe, cus: str, amount: int, currency: str = "usd",
           status: str = "succeeded") -> str:
    captured = amount if status == "succeeded" else 0
    return str(fake.put("charge", {"customer": cus, "amount": amount, "currency": currency,
                                   "amount_captured": captured, "status": status,
                                   "captured": status == "succeeded"})["id"])


def pays_monthly(fake: FakeStripe, email: str, cents: int, payments: int = 1) -> str:
    """A customer with an active subscription at `cents` a month, paid `payments` times;
    the subscription's id."""
    cus = customer(fake, email)
    items = {"data": [{"price": monthly(fake, cents)}]}
    sub = fake.put("subscription", {"customer": cus, "status": "active", "items": items})
    for _ in range(payments):
        charge(fake, cus, cents)
    return str(sub["id"])
