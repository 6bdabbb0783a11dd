"""Odd or missing fields never raise; the item contributes 0 and is counted."""

from decimal import Decimal
from typing import Any

import pytest

from revsync.revenue import CustomerFacts, RevenuePolicy, derive_subscriber, eligibility

from .factories import (
    EMPTY,
    NOW,
    charge,
    coupon,
    customer,
    discount,
    facts,
    invoice,
    item,
    price,
    subscription,
)

POLICY = RevenuePolicy()
GOOD = item(price("1000", id="good"))  # $10 that must survive next to the bad item


def derive_with(bad_item: Any):  # type: ignore[no-untyped-def]
    return derive_subscriber([facts(subscription(GOOD, bad_item))], EMPTY, POLICY, NOW)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (item(price(interval="fortnight")), "unknown_interval"),
        (item(price(interval_count=0)), "unknown_interval"),
        (item(price("-500")), "negative_amount"),
        (item(price("abc")), "invalid_amount"),
        (item(price("NaN")), "invalid_amount"),
        (item(price(None)), "amount_missing"),
        (item(price(), quantity=-2), "invalid_quantity"),
        (item(price(), quantity="many"), "invalid_quantity"),  # type: ignore[arg-type]
        (
            item(price(transform_quantity={"divide_by": 0, "round": "up"})),
            "invalid_transform_quantity",
        ),
        (
            item(price(transform_quantity={"divide_by": 2, "round": "sideways"})),
            "invalid_transform_quantity",
        ),
        (
            item(price(billing_scheme="tiered", tiers_mode="volume", tiers=[{"up_to": "x"}])),
            "invalid_tiers",
        ),
        (item(price(billing_scheme="tiered", tiers_mode=None, tiers=[])), "invalid_tiers"),
        (item(price(recurring=None, type="one_time")), "price_not_recurring"),
        (item(price(currency=None)), None),  # type: ignore[arg-type]  # falls back to sub currency
        ({"id": "si_x", "price": None}, "price_missing"),
        ({"id": "si_x"}, "price_missing"),
        (item(price(recurring="monthly")), "price_not_recurring"),
    ],
)
def test_bad_item_contributes_zero(bad: Any, reason: str | None) -> None:
    result = derive_with(bad)
    if reason is None:
        assert result.mrr == Decimal("30.00")  # $10 + $20 read in the subscription's usd
        assert result.anomalies == {}
    else:
        assert result.mrr == Decimal("10.00")
        assert result.anomalies == {reason: 1}


def test_missing_quantity_reads_as_one_and_is_counted() -> None:
    result = derive_with(item(price("2000"), quantity=None))
    assert result.mrr == Decimal("30.00")  # $10 + $20 x 1
    assert result.anomalies == {"quantity_missing": 1}


@pytest.mark.parametrize(
    "sub",
    [
        {"id": "sub_x", "status": "active"},  # no items
        {"id": "sub_x", "status": "active", "items": None},
        {"id": "sub_x", "status": "active", "items": {"data": "nope"}},
        # Part of the items only (Stripe embeds 10 and says there is more): never read
        # as if it were all of them.
        {"id": "sub_x", "status": "active",
         "items": {"data": [item(price("1000"))], "has_more": True}},
    ],
)
def test_subscription_without_items(sub: dict[str, Any]) -> None:
    result = derive_subscriber([facts(sub)], EMPTY, POLICY, NOW)
    assert result.mrr == Decimal("0.00")
    assert result.anomalies == {"items_missing": 1}
    assert result.tags == {"customer"}


def test_garbage_everywhere_does_not_raise() -> None:
    weird_items: list[Any] = [None, 5, "si_1", {"price": {"recurring": {"interval": None}}}]
    subs: list[Any] = [
        None,
        "sub_1",
        {"status": None},
        {"status": "active", "items": {"data": weird_items}, "discounts": [None, 3, "di"]},
        subscription(discounts=[discount(coupon(percent_off=150))]),
        subscription(id="s2", discounts=[discount(coupon(percent_off="x"))]),  # type: ignore[arg-type]
        subscription(id="s3", discounts=[discount(coupon(amount_off=-5))]),
        subscription(id="s4", discounts=[discount(coupon())]),  # neither percent nor amount
        subscription(id="s5", cancel_at="soon", created="yesterday"),
    ]
    charges: list[Any] = [
        None,
        {"status": "succeeded"},
        {"status": "succeeded", "amount_captured": "lots", "currency": "usd"},
        {"status": "succeeded", "amount_captured": 100, "amount_refunded": 500, "currency": "usd"},
        {"status": "succeeded", "amount_captured": 100},
        charge(250),
    ]
    odd_invoices: list[Any] = [None, 1]
    cust = customer(metadata=None, discount="di_1")  # type: ignore[arg-type]
    cust["metadata"] = "not a dict"
    f = CustomerFacts(
        customer=cust, subscriptions=subs, charges=charges, paid_invoices=odd_invoices
    )
    policy = RevenuePolicy(
        metadata_keys=("team",),
        products=frozenset(),
        fx_rates={"eur": "bad"},  # type: ignore[dict-item]
    )
    result = derive_subscriber([f], EMPTY, policy, NOW)
    assert result.eligible
    assert result.mrr is not None and result.mrr >= 0
    assert result.ltv == Decimal("2.50")
    assert sum(result.anomalies.values()) > 0
    assert eligibility(f, RevenuePolicy(products=frozenset({"prod_A"}))) == "product_not_selected"


def test_customer_without_anything() -> None:
    f = CustomerFacts(customer={}, subscriptions=[], charges=[])
    assert eligibility(f, POLICY) == "abandoned_checkout"
    assert derive_subscriber([f], EMPTY, POLICY, NOW).mrr is None


def test_the_lines_given_of_part_of_an_invoices_lines_are_still_facts() -> None:
    policy = RevenuePolicy(products=frozenset({"prod_A"}))
    paid = invoice(1000, "prod_B", "prod_A")
    paid["lines"]["has_more"] = True  # the rest was never read
    assert eligibility(facts(invoices=[paid]), policy) == "eligible"
