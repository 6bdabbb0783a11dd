"""Discounts: item, subscription, customer fallback; durations; percent and amount off."""

from decimal import Decimal
from typing import Any

import pytest

from revsync.revenue import Catalogue, Derived, RevenuePolicy, derive_subscriber

from .factories import (
    DAY,
    EMPTY,
    NOW,
    catalogue,
    coupon,
    customer,
    discount,
    facts,
    item,
    price,
    subscription,
)

POLICY = RevenuePolicy()
TEN_OFF = coupon(id="TEN", amount_off=1000)  # $10 off per invoice
QUARTER_OFF = coupon(id="Q", percent_off=25.0)
HALF_OFF = coupon(id="HALF", percent_off=50)


def derive(
    *subs: dict[str, Any], cust: dict[str, Any] | None = None, cat: Catalogue = EMPTY
) -> Derived:
    return derive_subscriber([facts(*subs, cust=cust)], cat, POLICY, NOW)


def mrr(
    *subs: dict[str, Any], cust: dict[str, Any] | None = None, cat: Catalogue = EMPTY
) -> Decimal:
    result = derive(*subs, cust=cust, cat=cat)
    assert result.mrr is not None
    return result.mrr


def test_percent_off_subscription_discount() -> None:
    # $40 x (1 - 25%) = $30
    sub = subscription(item(price("4000")), discounts=[discount(QUARTER_OFF)])
    assert mrr(sub) == Decimal("30.00")


def test_fractional_percent_off_as_in_stripe_example() -> None:
    # $100 x (1 - 25.5%) = $74.50
    sub = subscription(item(price("10000")), discounts=[discount(coupon(percent_off=25.5))])
    assert mrr(sub) == Decimal("74.50")


def test_amount_off_monthly() -> None:
    # $40 - $10 = $30
    sub = subscription(item(price("4000")), discounts=[discount(TEN_OFF)])
    assert mrr(sub) == Decimal("30.00")


def test_amount_off_normalised_by_yearly_interval() -> None:
    # ($1200 - $120) per year / 12 = $90  (i.e. $100 - $10)
    sub = subscription(
        item(price("120000", interval="year")), discounts=[discount(coupon(amount_off=12000))]
    )
    assert mrr(sub) == Decimal("90.00")


def test_amount_off_normalised_by_weekly_interval() -> None:
    # ($10 - $1) per week x 52 / 12 = $39.00
    sub = subscription(
        item(price("1000", interval="week")), discounts=[discount(coupon(amount_off=100))]
    )
    assert mrr(sub) == Decimal("39.00")


def test_amount_off_never_below_zero() -> None:
    # $5 - $10 -> 0, not -5
    sub = subscription(item(price("500")), discounts=[discount(TEN_OFF)])
    assert mrr(sub) == Decimal("0.00")


def test_item_discount_then_subscription_discount() -> None:
    # item A: $40 - $10 (item) = $30; item B: $20; total $50; then 50% (subscription) = $25
    sub = subscription(
        item(price("4000", id="pa"), discounts=[discount(TEN_OFF)]),
        item(price("2000", id="pb")),
        discounts=[discount(HALF_OFF)],
    )
    assert mrr(sub) == Decimal("25.00")


def test_discounts_apply_in_list_order() -> None:
    # ($40 x 50%) - $10 = $10, whereas ($40 - $10) x 50% would be $15
    sub = subscription(item(price("4000")), discounts=[discount(HALF_OFF), discount(TEN_OFF)])
    assert mrr(sub) == Decimal("10.00")


def test_customer_discount_used_when_subscription_has_none() -> None:
    # $40 x 75% = $30
    cust = customer(discount=discount(QUARTER_OFF))
    assert mrr(subscription(item(price("4000"))), cust=cust) == Decimal("30.00")


def test_customer_discount_ignored_when_subscription_has_one() -> None:
    # subscription's $10 off wins: $40 - $10 = $30 (not also 25%)
    cust = customer(discount=discount(QUARTER_OFF))
    sub = subscription(item(price("4000")), discounts=[discount(TEN_OFF)])
    assert mrr(sub, cust=cust) == Decimal("30.00")


def test_item_discount_and_customer_fallback() -> None:
    # item: $40 - $10 = $30; then customer 25% off: $22.50
    cust = customer(discount=discount(QUARTER_OFF))
    sub = subscription(item(price("4000"), discounts=[discount(TEN_OFF)]))
    assert mrr(sub, cust=cust) == Decimal("22.50")


@pytest.mark.parametrize(
    ("duration", "end", "expected"),
    [
        ("forever", None, "20.00"),  # $40 x 50%
        ("repeating", NOW + DAY, "20.00"),  # still running
        ("repeating", NOW, "40.00"),  # ended exactly now: now < end is false
        ("repeating", NOW - DAY, "40.00"),  # ended
        ("repeating", None, "20.00"),  # no end known: present discount applies
        ("once", None, "40.00"),  # once never changes MRR
        ("once", NOW + DAY, "40.00"),
    ],
)
def test_discount_durations(duration: str, end: int | None, expected: str) -> None:
    c = coupon(percent_off=50, duration=duration, duration_in_months=3)
    sub = subscription(item(price("4000")), discounts=[discount(c, end=end)])
    assert mrr(sub) == Decimal(expected)


def test_coupon_id_resolved_through_catalogue() -> None:
    # source.coupon is an id: look it up. $40 x 75% = $30
    sub = subscription(item(price("4000")), discounts=[discount("Q")])
    assert mrr(sub, cat=catalogue(coupons=[QUARTER_OFF])) == Decimal("30.00")


def test_inline_coupon_older_shape() -> None:
    legacy_discount = {"id": "di_1", "object": "discount", "coupon": QUARTER_OFF, "end": None}
    sub = subscription(item(price("4000")), discounts=[legacy_discount])
    assert mrr(sub) == Decimal("30.00")


def test_unexpanded_discount_id_is_ignored_and_counted() -> None:
    sub = subscription(item(price("4000")), discounts=["di_1Pgc6rB7WZ01zgkW7Al8Fal9"])
    result = derive(sub)
    assert result.mrr == Decimal("40.00")  # cannot resolve: no discount applied
    assert result.anomalies == {"discount_not_expanded": 1}


def test_unexpanded_discount_id_still_blocks_customer_fallback() -> None:
    # the subscription has a discount (just not expanded), so the customer's is not used
    cust = customer(discount=discount(QUARTER_OFF))
    sub = subscription(item(price("4000")), discounts=["di_x"])
    assert mrr(sub, cust=cust) == Decimal("40.00")


def test_unknown_coupon_id_is_counted() -> None:
    sub = subscription(item(price("4000")), discounts=[discount("NOPE")])
    result = derive(sub)
    assert result.mrr == Decimal("40.00")
    assert result.anomalies == {"coupon_unknown": 1}


def test_amount_off_in_currency_options() -> None:
    # EUR subscription; coupon is USD with a EUR option of 5 EUR: (20 - 5) EUR x 1.1 = 16.50 USD
    multi = coupon(amount_off=1000, currency_options={"eur": {"amount_off": 500}})
    sub = subscription(
        item(price("2000", currency="eur")), currency="eur", discounts=[discount(multi)]
    )
    policy = RevenuePolicy(fx_rates={"eur": Decimal("1.1")})
    result = derive_subscriber([facts(sub)], EMPTY, policy, NOW)
    assert result.mrr == Decimal("16.50")


def test_amount_off_currency_mismatch_is_not_applied() -> None:
    sub = subscription(
        item(price("2000", currency="eur")),
        currency="eur",
        discounts=[discount(coupon(amount_off=500, currency="usd"))],
    )
    policy = RevenuePolicy(fx_rates={"eur": Decimal("1.1")})
    result = derive_subscriber([facts(sub)], EMPTY, policy, NOW)
    assert result.mrr == Decimal("22.00")  # 20 EUR x 1.1, coupon not applicable
    assert result.anomalies == {"coupon_currency_mismatch": 1}


def test_subscription_amount_off_is_taken_off_the_total_of_several_items_once() -> None:
    # Items $30 and 2 seats x $10 a month = $50 per invoice; $10 off the invoice -> $40,
    # not $10 off each item ($30 - $10 + $20 - $10 = $30).
    sub = subscription(item(price("3000", id="price_a")), item(price("1000", id="price_b"),
                                                              quantity=2),
                       discounts=[discount(TEN_OFF)])
    assert mrr(sub) == Decimal("40.00")


def test_subscription_amount_off_over_yearly_items_is_normalised_once() -> None:
    # $120 and $240 a year = $360 per yearly invoice; $12 off it -> $348 / 12 = $29.00.
    sub = subscription(item(price("12000", id="price_a", interval="year")),
                       item(price("24000", id="price_b", interval="year")),
                       discounts=[discount(coupon(id="TWELVE", amount_off=1200))])
    assert mrr(sub) == Decimal("29.00")


def test_subscription_amount_off_larger_than_all_items_stops_at_zero() -> None:
    # $5 + $3 a month with $10 off the invoice -> 0, not -$2; beside it a plain $20
    # subscription: 20.00, not 18.00 (a negative subscription must not eat another's MRR).
    small = subscription(item(price("500", id="price_a")), item(price("300", id="price_b")),
                         id="sub_small", discounts=[discount(TEN_OFF)])
    plain = subscription(item(price("2000", id="price_c")), id="sub_plain")
    assert mrr(small) == Decimal("0.00")
    assert mrr(small, plain) == Decimal("20.00")
