"""The generated account is deterministic and contains every case the sync must handle."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from fake_stripe import Account, FakeStripe, generate_account, subscriber_emails
from fake_stripe.catalogue import period_amount
from fake_stripe.nested_lists import on_the_wire

N = 1500


@pytest.fixture(scope="module")
def big() -> Account:
    return generate_account(N, seed=3)


def test_same_seed_same_account() -> None:
    a, b = generate_account(200, seed=42), generate_account(200, seed=42)
    assert a.records() == b.records()
    assert a.abandoned == b.abandoned
    c = generate_account(200, seed=43)
    assert [x["id"] for x in c.customers] != [x["id"] for x in a.customers]


def test_same_seed_same_served_objects() -> None:
    first, second = FakeStripe.seeded(100, seed=9), FakeStripe.seeded(100, seed=9)
    for object_type in ("customer", "subscription", "charge", "invoice"):
        assert first.list(object_type, limit=100) == second.list(object_type, limit=100)


def test_volumes_are_realistic(big: Account) -> None:
    assert 1.0 <= len(big.subscriptions) / N <= 1.4
    assert 6.5 <= len(big.charges) / N <= 10
    assert all(r["created"] < big.now for r in big.customers + big.subscriptions + big.charges)
    assert min(r["created"] for r in big.customers) >= big.now - 3 * 366 * 86_400


def test_catalogue_covers_pricing_shapes(big: Account) -> None:
    prices = big.prices
    recurring = [p["recurring"] for p in prices if p["recurring"]]
    assert {r["interval"] for r in recurring} == {"day", "week", "month", "year"}
    assert {r["interval_count"] for r in recurring} >= {1, 3, 6}
    assert any(r["usage_type"] == "metered" for r in recurring)
    tiered = [p for p in prices if p["billing_scheme"] == "tiered"]
    assert {p["tiers_mode"] for p in tiered} == {"volume", "graduated"}
    assert all(any(t["flat_amount"] for t in p["tiers"]) for p in tiered)
    assert any(p.get("transform_quantity") for p in prices)
    assert any(p["type"] == "one_time" for p in prices)
    assert any(not p["active"] for p in prices)
    assert {p["currency"] for p in prices} == {"usd", "eur", "gbp", "jpy"}
    coupons = big.coupons
    assert any(c["percent_off"] for c in coupons) and any(c["amount_off"] for c in coupons)
    assert {c["duration"] for c in coupons} == {"forever", "repeating", "once"}
    assert all(c["duration_in_months"] for c in coupons if c["duration"] == "repeating")


def test_period_amount_rules() -> None:
    volume = {"billing_scheme": "tiered", "tiers_mode": "volume", "tiers": [
        {"up_to": 10, "unit_amount": 500, "flat_amount": None},
        {"up_to": None, "unit_amount": 400, "flat_amount": 1000}]}
    assert period_amount(volume, 10) == 5000
    assert period_amount(volume, 11) == 11 * 400 + 1000
    graduated = {**volume, "tiers_mode": "graduated"}
    assert period_amount(graduated, 11) == 10 * 500 + 400 + 1000
    transformed = {"unit_amount": 1000, "transform_quantity": {"divide_by": 1000, "round": "up"}}
    assert period_amount(transformed, 1001) == 2000
    metered = {"unit_amount": 2, "recurring": {"usage_type": "metered"}}
    assert period_amount(metered, 1, usage=50) == 100


def test_every_scenario_is_present(big: Account) -> None:
    subs = big.subscriptions
    statuses = Counter(s["status"] for s in subs)
    for status in ("active", "trialing", "past_due", "canceled", "unpaid", "incomplete",
                   "incomplete_expired", "paused"):
        assert statuses[status] > 0, status
    live = [s for s in subs if s["status"] in ("active", "trialing", "past_due")]
    checks: dict[str, Any] = {
        "cancel_at_period_end": [s for s in live if s.get("cancel_at_period_end")],
        "cancel_at": [s for s in live if s.get("cancel_at") and not s.get("cancel_at_period_end")],
        "quantity > 1": [s for s in subs if any(i["quantity"] > 1 for i in s["items"])],
        "multi-item": [s for s in subs if len(s["items"]) > 1],
        "subscription discount": [s for s in subs if s.get("discounts")],
        "item discount": [s for s in subs if any(i.get("discounts") for i in s["items"])],
        "customer discount": [c for c in big.customers if c.get("discount")],
        "trial": [s for s in subs if s.get("trial_end")],
        "ended_at": [s for s in subs if s.get("ended_at")],
        "no email": [c for c in big.customers if not c.get("email")],
        "metadata": [c for c in big.customers if c.get("metadata", {}).get("plan")],
        "succeeded": [c for c in big.charges if c["status"] == "succeeded"],
        "failed": [c for c in big.charges if c["status"] == "failed"],
        "uncaptured": [c for c in big.charges if c.get("captured") is False],
        "partial refund": [c for c in big.charges
                           if 0 < c.get("amount_refunded", 0) < c["amount"]],
        "full refund": [c for c in big.charges if c.get("amount_refunded") == c["amount"]],
        "refund objects": big.refunds,
        "paid invoices": [i for i in big.invoices if i["status"] == "paid" and i["amount_paid"]],
        "open invoices": [i for i in big.invoices if i["status"] == "open"],
        "abandoned": big.abandoned,
        # More entries than Stripe embeds (10): the sync must page the rest.
        "subscription with > 10 items": [s for s in subs if len(s["items"]) > 10],
        "paid invoice with > 10 lines": [i for i in big.invoices
                                         if i["status"] == "paid" and len(i["lines"]) > 10],
    }
    for currency in ("usd", "eur", "gbp", "jpy"):
        checks[currency] = [s for s in subs if s["currency"] == currency]
    for name, found in checks.items():
        assert found, name
    jpy = [c["amount"] for c in big.charges if c["currency"] == "jpy"]
    assert min(jpy) >= 100  # zero-decimal: ¥ amounts, not cents


def test_shared_emails_differ_in_case(big: Account) -> None:
    emails = [c["email"] for c in big.customers if c.get("email")]
    folded = Counter(e.casefold() for e in emails)
    assert any(n > 1 for n in folded.values())
    shared = {e for e in emails if folded[e.casefold()] > 1}
    assert len({e.casefold() for e in shared}) < len(shared)  # some differ only in case


def test_abandoned_checkouts_never_paid(big: Account) -> None:
    paid = {c["customer"] for c in big.charges if c["status"] == "succeeded"}
    by_customer: dict[str, list[str]] = {}
    for sub in big.subscriptions:
        by_customer.setdefault(sub["customer"], []).append(sub["status"])
    for customer in big.abandoned:
        assert customer not in paid
        assert set(by_customer[customer]) <= {"incomplete", "incomplete_expired"}


def test_paid_invoices_name_products_and_subscription() -> None:
    state = FakeStripe.seeded(200, seed=4)
    product_ids = {p["id"] for p in state.iter_records("product")}
    page = state.list("invoice", limit=100, where={"status": "paid"})
    assert page["data"]
    for invoice in page["data"]:
        assert invoice["amount_paid"] > 0
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        assert state.record("subscription", sub_id)["customer"] == invoice["customer"]
        for line in invoice["lines"]["data"]:
            assert line["pricing"]["price_details"]["product"] in product_ids


def test_subscriber_emails(big: Account) -> None:
    emails = subscriber_emails(big, match_ratio=0.9, seed=1)
    assert emails == subscriber_emails(big, match_ratio=0.9, seed=1)
    customer_emails = {c["email"].strip().casefold() for c in big.customers if c.get("email")}
    normalised = [e.strip().casefold() for e in emails]
    matched = [e for e in normalised if e in customer_emails]
    assert 0.85 <= len(matched) / len(customer_emails) <= 0.95
    assert len(normalised) > len(matched)  # some match no customer
    assert any(e != e.strip() for e in emails)
    assert any(e.strip() != e.strip().lower() for e in emails)


def test_long_lists_are_a_small_share_and_priced_apart(big: Account) -> None:
    """About 1-2% of subscriptions have 11-20 items, each its own monthly price with its
    own amount; some paid invoices have 11-15 lines with prorations and one-off lines,
    and their charge pays exactly the invoice."""
    subs = big.subscriptions
    wide = [s for s in subs if len(s["items"]) > 10]
    assert 0.005 <= len(wide) / len(subs) <= 0.025
    prices = {p["id"]: p for p in big.prices}
    for sub in wide:
        assert 11 <= len(sub["items"]) <= 20
        ids = [i["price"] for i in sub["items"]]
        assert len(set(ids)) == len(ids)
        assert {(prices[i]["recurring"]["interval"], prices[i]["recurring"]["interval_count"])
                for i in ids} == {("month", 1)}
    add_on_amounts = [prices[i["price"]]["unit_amount"] for s in wide for i in s["items"][2:]]
    assert len(set(add_on_amounts)) > 10
    wide_ids = {s["id"] for s in wide}
    long = [i for i in big.invoices if i["status"] == "paid" and len(i["lines"]) > 10
            and i["lines"][0]["subscription"] not in wide_ids]
    assert long
    charges = {(c["customer"], c["created"]): c for c in big.charges}
    for invoice in long:
        assert 11 <= len(invoice["lines"]) <= 15
        kinds = {line.get("parent", {}).get("type") for line in invoice["lines"]}
        assert None in kinds  # the subscription's own lines
        assert kinds & {"subscription_item_details", "invoice_item_details"}
        charge = charges[(invoice["customer"], invoice["created"])]
        assert charge["amount"] == invoice["amount_paid"]
        assert invoice.get("subtotal", invoice["amount_due"]) == sum(
            line["amount"] for line in invoice["lines"])


def test_generated_long_lists_are_cut_on_the_wire() -> None:
    state = FakeStripe.seeded(400, seed=7)
    wide = next(r for r in state.iter_records("subscription") if len(r["items"]) > 10)
    whole = state.retrieve("subscription", wide["id"])
    assert len(whole["items"]["data"]) == whole["items"]["total_count"] == len(wide["items"])
    sent = on_the_wire(whole)["items"]
    assert len(sent["data"]) == 10 and sent["has_more"] is True
