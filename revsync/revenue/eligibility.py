"""Which Stripe customers feed a subscriber's revenue attributes, and why others don't.

Returns ``"eligible"`` or a skip reason for the sync report:

- ``deleted_customer``: the customer object is a deletion stub (``deleted: true``).
- ``product_not_selected``: products are selected, and the customer paid (or, with
  "sync without payment", has a real subscription) but not for a selected product.
- ``abandoned_checkout``: never paid and every subscription is ``incomplete`` /
  ``incomplete_expired`` (or there is none).
- ``never_paid``: never paid, has a real trial or subscription, and "sync users
  without any payment" is off.

Paid: a succeeded charge with ``amount_captured > 0``. With products selected the
test is instead a paid invoice with ``amount_paid > 0`` having a line whose
``pricing.price_details.product`` is selected (a paid invoice proves payment for
that product; a charge alone cannot say what it paid for).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Catalogue, CustomerFacts, RevenuePolicy
from .mrr import subscription_items
from .pricing import item_product
from .read import as_dict, get_dict, get_int, get_str, list_data, lower

ELIGIBLE = "eligible"
DELETED_CUSTOMER = "deleted_customer"
PRODUCT_NOT_SELECTED = "product_not_selected"
ABANDONED_CHECKOUT = "abandoned_checkout"
NEVER_PAID = "never_paid"

INCOMPLETE_STATUSES: frozenset[str] = frozenset({"incomplete", "incomplete_expired"})

_EMPTY_CATALOGUE = Catalogue(prices={}, coupons={})


def has_paid(facts: CustomerFacts) -> bool:
    """A succeeded charge with ``amount_captured > 0``."""
    for raw in facts.charges:
        charge = as_dict(raw)
        if charge is None or lower(get_str(charge, "status")) != "succeeded":
            continue
        captured = get_int(charge, "amount_captured")
        if captured is not None and captured > 0:
            return True
    return False


def invoice_line_product(line: Mapping[str, Any]) -> str | None:
    """``pricing.price_details.product`` of an invoice line (legacy ``price.product`` too)."""
    details = get_dict(get_dict(line, "pricing"), "price_details")
    product = get_str(details, "product")
    if product is None:
        product = get_str(get_dict(line, "price"), "product")
    return product


def paid_invoice_products(facts: CustomerFacts) -> set[str]:
    """Products on paid invoices with ``amount_paid > 0``."""
    products: set[str] = set()
    for raw in facts.paid_invoices:
        invoice = as_dict(raw)
        if invoice is None:
            continue
        status = lower(get_str(invoice, "status"))
        amount_paid = get_int(invoice, "amount_paid")
        if (status not in (None, "paid")) or amount_paid is None or amount_paid <= 0:
            continue
        products |= invoice_products(invoice)
    return products


def invoice_products(invoice: Mapping[str, Any]) -> set[str]:
    """Products on the invoice's lines, paid or not. Of lines Stripe gave only part of,
    the ones given are still facts (the sync reads the rest before storing an invoice)."""
    products: set[str] = set()
    for line in list_data(invoice.get("lines")) or []:
        line_obj = as_dict(line)
        product = None if line_obj is None else invoice_line_product(line_obj)
        if product is not None:
            products.add(product)
    return products


def real_subscriptions(facts: CustomerFacts) -> list[dict[str, Any]]:
    """Subscriptions that are a real trial or subscription (not an abandoned checkout)."""
    result = []
    for raw in facts.subscriptions:
        subscription = as_dict(raw)
        if subscription is None:
            continue
        status = lower(get_str(subscription, "status"))
        if status is not None and status not in INCOMPLETE_STATUSES:
            result.append(subscription)
    return result


def subscription_products(
    subscription: Mapping[str, Any], catalogue: Catalogue = _EMPTY_CATALOGUE
) -> set[str]:
    """Product ids of the subscription's items."""
    products = {item_product(item, catalogue) for item in subscription_items(subscription) or []}
    return {p for p in products if p is not None}


def eligibility(
    facts: CustomerFacts, policy: RevenuePolicy, catalogue: Catalogue = _EMPTY_CATALOGUE
) -> str:
    """``'eligible'`` or the skip reason (see module docstring)."""
    if facts.customer.get("deleted") is True:
        return DELETED_CUSTOMER
    paid_any = has_paid(facts)
    invoice_products = paid_invoice_products(facts) if policy.products else set()
    if policy.products:
        if invoice_products & policy.products:
            return ELIGIBLE
    elif paid_any:
        return ELIGIBLE
    real = real_subscriptions(facts)
    if policy.sync_without_payment:
        if not policy.products and real:
            return ELIGIBLE
        if any(subscription_products(s, catalogue) & policy.products for s in real):
            return ELIGIBLE
    if policy.products and (paid_any or invoice_products or (policy.sync_without_payment and real)):
        return PRODUCT_NOT_SELECTED
    if not paid_any and not real:
        return ABANDONED_CHECKOUT
    return NEVER_PAID
