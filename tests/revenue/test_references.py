"""An event reads only the catalogue entries its customers refer to: the references
found cover every lookup the definitions make, so the result is the whole catalogue's."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from revsync.revenue import Catalogue, RevenuePolicy, derive_subscriber
from revsync.revenue.references import catalogue_references

from .factories import (
    NOW,
    catalogue,
    coupon,
    discount,
    facts,
    item,
    plan,
    price,
    subscription,
    tier,
    tiered_price,
)

TIERED = tiered_price("graduated", [tier(10, unit=500), tier(None, unit=300)], id="price_t")
PRICES = [price("1500", id="price_a"), price("9900", id="price_b", interval="year"), TIERED,
          plan(3000, id="plan_legacy")]
COUPONS = [coupon(percent_off=25, id="QUARTER"), coupon(amount_off=500, id="FIVE")]
WHOLE = catalogue(PRICES, COUPONS)


def test_every_reference_shape_is_found() -> None:
    tiered_inline = {**TIERED, "tiers": None}  # embedded without tiers: looked up by id
    subs = [
        subscription(item("price_a"), item(tiered_inline, quantity=12),
                     discounts=[discount("QUARTER")]),
        subscription(item(None, plan="plan_legacy", price=None),
                     item(price("100", id="price_inline"),
                          discounts=[{"coupon": "FIVE", "object": "discount"}]), id="sub_2"),
    ]
    prices, coupons = catalogue_references(subs)
    assert {"price_a", "price_t", "plan_legacy"} <= prices
    assert coupons == {"QUARTER", "FIVE"}
    assert catalogue_references([None, "price_a", 5, []]) == (set(), set())


items = st.builds(
    lambda ref, quantity, coupons: item(ref, quantity=quantity,
                                        discounts=[discount(c) for c in coupons]),
    st.sampled_from(["price_a", "price_b", "price_t", "price_missing",
                     {**TIERED, "tiers": None}]),
    st.integers(1, 30),
    st.lists(st.sampled_from(["QUARTER", "FIVE", "GONE"]), max_size=2),
)


@given(st.lists(st.lists(items, min_size=1, max_size=3), min_size=1, max_size=3))
def test_the_referenced_catalogue_derives_what_the_whole_one_does(
        subs: list[list[dict[str, Any]]]) -> None:
    customers = [facts(*(subscription(*its, id=f"sub_{n}") for n, its in enumerate(subs)))]
    prices, coupons = catalogue_references(customers[0].subscriptions)
    assert prices <= {"price_a", "price_b", "price_t", "price_missing"}
    only = Catalogue(prices={k: v for k, v in WHOLE.prices.items() if k in prices},
                     coupons={k: v for k, v in WHOLE.coupons.items() if k in coupons})
    policy = RevenuePolicy()
    assert derive_subscriber(customers, only, policy, NOW) == derive_subscriber(
        customers, WHOLE, policy, NOW)
