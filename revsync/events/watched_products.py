""""Products to watch in webhooks": which products an event's objects are about.

Pure. A subscription is about its items' products and an invoice about its lines'
products. Since 2025 a charge no longer names its invoice, so a charge (or refund)
is about every product its customer subscribes to or has paid an invoice for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from revsync.revenue import Catalogue, CustomerFacts
from revsync.revenue.eligibility import (
    invoice_products,
    paid_invoice_products,
    subscription_products,
)


def customer_products(facts: Iterable[CustomerFacts], catalogue: Catalogue) -> set[str]:
    products: set[str] = set()
    for fact in facts:
        products |= paid_invoice_products(fact)
        for subscription in fact.subscriptions:
            products |= subscription_products(subscription, catalogue)
    return products


def object_products(
    stream: str,
    obj: Mapping[str, Any] | None,
    customer_facts: Iterable[CustomerFacts],
    catalogue: Catalogue,
) -> set[str]:
    """Products the object of one product stream is about (empty when unknown)."""
    if stream == "subscriptions" and obj is not None:
        return subscription_products(obj, catalogue)
    if stream == "invoices" and obj is not None:
        return invoice_products(obj)
    if stream == "charges":
        return customer_products(customer_facts, catalogue)
    return set()
