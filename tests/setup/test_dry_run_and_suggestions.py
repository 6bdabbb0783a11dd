"""The dry run's counts and the metadata suggestions, on hand-built Stripe objects."""

from __future__ import annotations

from typing import Any

from revsync.revenue import Catalogue, CustomerFacts, RevenuePolicy
from revsync.setup.dry_run import DryRunReport, dry_run
from revsync.setup.suggestions import KeySuggestion, suggest

PRICE = {"id": "price_a", "product": "prod_a", "unit_amount": 1000, "currency": "usd",
         "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}}
PRICE_B = {**PRICE, "id": "price_b", "product": "prod_b"}
CATALOGUE = Catalogue(prices={"price_a": PRICE, "price_b": PRICE_B}, coupons={})


def sub(status: str, price: dict[str, Any] = PRICE) -> dict[str, Any]:
    return {"id": f"sub_{status}", "status": status, "items": {"data": [{"price": price,
                                                                          "quantity": 1}]}}


PAID = {"id": "ch_1", "status": "succeeded", "amount": 1000, "amount_captured": 1000,
        "amount_refunded": 0, "currency": "usd", "captured": True}


def invoice(product: str) -> dict[str, Any]:
    return {"id": f"in_{product}", "status": "paid", "amount_paid": 1000, "lines": {"data": [
        {"pricing": {"price_details": {"product": product}}}]}}


def fact(email: str | None, subs: list[dict[str, Any]], paid: bool,
         invoices: list[dict[str, Any]] | None = None) -> CustomerFacts:
    return CustomerFacts({"id": f"cus_{email}", "email": email}, subs,
                         [PAID] if paid else [], invoices or [])


FACTS = [
    fact("Ann@x.io", [sub("active")], paid=True, invoices=[invoice("prod_a")]),  # eligible
    fact("ben@x.io", [sub("active", PRICE_B)], paid=True, invoices=[invoice("prod_b")]),
    fact("cat@x.io", [sub("incomplete")], paid=False),  # abandoned checkout
    fact(None, [], paid=False),  # abandoned checkout too: nothing at all
    fact("dan@x.io", [sub("trialing")], paid=False),  # a trial that never paid
    fact("eve@x.io", [], paid=True),  # paid, no subscription, no subscriber
]
SUBSCRIBERS = {"ann@x.io", "ben@x.io", "dan@x.io"}


def test_default_options() -> None:
    # Eligible: ann, ben, eve (paid). Matched: ann, ben; eve has no subscriber.
    assert dry_run(FACTS, RevenuePolicy(), CATALOGUE, SUBSCRIBERS) == DryRunReport(
        customers=6, would_sync=3, abandoned_checkouts=2, no_payment_trials=1,
        matching_subscribers=2, unmatched=1, per_product={})


def test_with_the_toggle_and_a_product_selected() -> None:
    policy = RevenuePolicy(products=frozenset({"prod_a"}), sync_without_payment=True)
    # prod_a: ann paid an invoice for it; dan's trial is on prod_a and the toggle counts
    # it; ben paid for prod_b only; eve's charge names no product.
    assert dry_run(FACTS, policy, CATALOGUE, SUBSCRIBERS) == DryRunReport(
        customers=6, would_sync=2, abandoned_checkouts=2, no_payment_trials=1,
        matching_subscribers=2, unmatched=0, per_product={"prod_a": 2})


def test_suggestions_rank_keys_by_how_often_they_are_filled() -> None:
    customers: list[dict[str, Any]] = [{"metadata": {"plan": "pro", "company": "Acme"}},
                 {"metadata": {"plan": "basic", "company": " "}},
                 {"metadata": {"plan": "x" * 100}}, {"metadata": None}]
    subscriptions = [{"metadata": {"seats": "5"}}, {}]
    assert suggest(customers, subscriptions) == [
        KeySuggestion("plan", "customer", 3, 4, "pro"),
        KeySuggestion("company", "customer", 1, 4, "Acme"),
        KeySuggestion("seats", "subscription", 1, 2, "5"),
    ]
