"""MRR per item: intervals, quantity, transform_quantity, tiers, metered, legacy plan."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from revsync.revenue import (
    Catalogue,
    RevenuePolicy,
    Tally,
    derive_subscriber,
    item_amount_per_period,
    monthly_factor,
    subscription_mrr,
)

from .factories import (
    EMPTY,
    NOW,
    catalogue,
    facts,
    item,
    plan,
    price,
    subscription,
    tier,
    tiered_price,
)

POLICY = RevenuePolicy()


def mrr(*subs: dict[str, Any], cat: Catalogue = EMPTY, policy: RevenuePolicy = POLICY) -> Decimal:
    result = derive_subscriber([facts(*subs)], cat, policy, NOW)
    assert result.mrr is not None
    return result.mrr


def one_item(price_obj: dict[str, Any], quantity: int | None = 1) -> dict[str, Any]:
    return subscription(item(price_obj, quantity))


@pytest.mark.parametrize(
    ("unit", "interval", "count", "expected"),
    [
        ("12000", "year", 1, "10.00"),  # $120 / 12 = 10
        ("1000", "week", 1, "43.33"),  # $10 x 52 / 12 = 43.333...
        ("100", "day", 1, "30.42"),  # $1 x 365 / 12 = 30.4166...
        ("3000", "month", 3, "10.00"),  # $30 / 3 = 10
        ("2000", "month", 1, "20.00"),  # $20 / 1
        ("24000", "year", 2, "10.00"),  # $240 / (12 x 2) = 10
        ("1000", "week", 2, "21.67"),  # $10 x 52 / 12 / 2 = 21.666...
        ("100", "day", 7, "4.35"),  # $1 x 365 / 12 / 7 = 4.3452...
    ],
)
def test_interval_normalisation(unit: str, interval: str, count: int, expected: str) -> None:
    assert mrr(one_item(price(unit, interval=interval, interval_count=count))) == Decimal(expected)


def test_monthly_factor() -> None:
    assert monthly_factor("month", 1) == 1
    assert monthly_factor("year", 1) == Fraction(1, 12)
    assert monthly_factor("week", 1) == Fraction(52, 12)
    assert monthly_factor("day", 1) == Fraction(365, 12)
    assert monthly_factor("month", 3) == Fraction(1, 3)
    assert monthly_factor("month", None) == 1
    assert monthly_factor("fortnight", 1) is None
    assert monthly_factor("month", 0) is None


def test_quantity_multiplies() -> None:
    # $20 x 3 seats = $60/month
    assert mrr(one_item(price("2000"), quantity=3)) == Decimal("60.00")


def test_fractional_unit_amount_decimal() -> None:
    # 0.5 cent x 1000 units = 500 cents = $5.00; 12.345 cents x 7 = 86.415 cents = $0.86415
    assert mrr(one_item(price("0.5"), quantity=1000)) == Decimal("5.00")
    assert mrr(one_item(price("12.345"), quantity=7)) == Decimal("0.86")


def test_several_items_sum() -> None:
    # $20/month + $120/year (=10) + 2 x $5/month (=10) = $40
    sub = subscription(
        item(price("2000", id="p1")),
        item(price("12000", id="p2", interval="year")),
        item(price("500", id="p3"), quantity=2),
    )
    assert mrr(sub) == Decimal("40.00")


@pytest.mark.parametrize(
    ("quantity", "rounding", "expected"),
    [
        (11, "up", "30.00"),  # ceil(11 / 5) = 3 packs x $10 = $30
        (11, "down", "20.00"),  # floor(11 / 5) = 2 packs x $10 = $20
        (10, "up", "20.00"),  # 10 / 5 = 2 exactly
        (4, "down", "0.00"),  # floor(4 / 5) = 0
    ],
)
def test_transform_quantity(quantity: int, rounding: str, expected: str) -> None:
    p = price("1000", transform_quantity={"divide_by": 5, "round": rounding})
    assert mrr(one_item(p, quantity)) == Decimal(expected)


VOLUME = [tier(10, unit=1000), tier(20, unit=800, flat=500), tier(None, unit=500, flat=1000)]
GRADUATED = [tier(5, unit=1000, flat=200), tier(10, unit=800), tier(None, unit=500, flat=300)]


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (7, "70.00"),  # tier 1: 7 x $10 = $70
        (10, "100.00"),  # boundary stays in tier 1: 10 x $10
        (15, "125.00"),  # tier 2: 15 x $8 + $5 flat = $125
        (25, "135.00"),  # tier 3: 25 x $5 + $10 flat = $135
        (0, "0.00"),  # quantity 0 reaches no tier
    ],
)
def test_volume_tiers(quantity: int, expected: str) -> None:
    assert mrr(one_item(tiered_price("volume", VOLUME), quantity)) == Decimal(expected)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (3, "32.00"),  # 3 x $10 + $2 flat = $32
        (5, "52.00"),  # 5 x $10 + $2 = $52
        (8, "76.00"),  # $52 + 3 x $8 = $76
        (12, "105.00"),  # $52 + 5 x $8 + (2 x $5 + $3 flat) = 52 + 40 + 13 = $105
        (0, "0.00"),
    ],
)
def test_graduated_tiers(quantity: int, expected: str) -> None:
    assert mrr(one_item(tiered_price("graduated", GRADUATED), quantity)) == Decimal(expected)


def test_tiers_looked_up_in_catalogue_when_not_on_item() -> None:
    listed = tiered_price("volume", VOLUME, id="price_tiered")
    on_item = tiered_price("volume", None, id="price_tiered")  # no "tiers" key
    # 15 in tier 2: 15 x $8 + $5 = $125
    assert mrr(one_item(on_item, 15), cat=catalogue([listed])) == Decimal("125.00")


def test_tiers_missing_everywhere_counts_and_contributes_zero() -> None:
    on_item = tiered_price("volume", None, id="price_tiered")
    result = derive_subscriber(
        [facts(subscription(item(on_item, 15), item(price("2000"))))], EMPTY, POLICY, NOW
    )
    assert result.mrr == Decimal("20.00")  # only the per-unit item
    assert result.anomalies == {"tiers_missing": 1}


def test_metered_counts_zero() -> None:
    sub = subscription(item(price("2000", usage_type="metered"), quantity=None), item(price("500")))
    result = derive_subscriber([facts(sub)], EMPTY, POLICY, NOW)
    assert result.mrr == Decimal("5.00")  # metered $20/unit contributes 0
    assert result.anomalies == {}  # metered is normal, not an anomaly


def test_legacy_plan_only_item() -> None:
    legacy = item(None, quantity=2)
    legacy.pop("price")
    legacy["plan"] = plan(6000, interval="year", interval_count=1)
    # $60/year x 2 = $120/year -> $10/month
    assert mrr(subscription(legacy)) == Decimal("10.00")


def test_legacy_plan_transform_usage_and_tiers() -> None:
    legacy = item(None, quantity=12)
    legacy["price"] = None
    legacy["plan"] = plan(0, billing_scheme="tiered", tiers_mode="graduated", tiers=GRADUATED)
    legacy["plan"].update(amount=None, amount_decimal=None)
    legacy["plan"]["transform_usage"] = {"divide_by": 2, "round": "up"}
    # ceil(23 / 2) = 12 units, graduated qty 12 = $105 (see test_graduated_tiers)
    legacy["quantity"] = 23
    assert mrr(subscription(legacy)) == Decimal("105.00")


def test_price_wins_over_legacy_plan() -> None:
    it = item(price("2000"))
    it["plan"] = plan(999999, interval_count=797691627)  # junk plan as in Stripe's fixture
    assert mrr(subscription(it)) == Decimal("20.00")


def test_price_given_as_id_is_looked_up() -> None:
    p = price("4500", id="price_x")
    assert mrr(subscription(item("price_x")), cat=catalogue([p])) == Decimal("45.00")


def test_taxes_never_added() -> None:
    p = price("2000", tax_behavior="exclusive")
    sub = subscription(item(p, default_tax_rates=[{"percentage": 20.0}]))
    assert mrr(sub) == Decimal("20.00")


def test_item_amount_per_period_and_subscription_mrr_helpers() -> None:
    tally = Tally()
    charge = item_amount_per_period(item(price("1000", interval="week"), 3), EMPTY, tally)
    assert charge is not None
    assert charge.currency == "usd"
    assert charge.per_period == Fraction(30)  # 3 x $10 per week
    assert charge.factor == Fraction(52, 12)
    per_currency = subscription_mrr(
        subscription(item(price("12000", interval="year"))), EMPTY, POLICY, NOW
    )
    assert per_currency == {"usd": Decimal(10)}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RevenuePolicy(), "30.00"),  # active $10 + trialing $20
        (RevenuePolicy(mrr_statuses=frozenset({"active", "past_due"})), "50.00"),  # $10 + $40
    ],
)
def test_status_policy(policy: RevenuePolicy, expected: str) -> None:
    subs = [
        subscription(item(price("1000")), id="s_active", status="active"),
        subscription(item(price("2000")), id="s_trial", status="trialing"),
        subscription(item(price("4000")), id="s_pd", status="past_due"),
        subscription(item(price("8000")), id="s_canceled", status="canceled"),
        subscription(item(price("16000")), id="s_unpaid", status="unpaid"),
        subscription(item(price("32000")), id="s_incomplete", status="incomplete"),
        subscription(item(price("64000")), id="s_paused", status="paused"),
    ]
    assert mrr(*subs, policy=policy) == Decimal(expected)


def test_copies_of_one_price_id_with_different_terms_are_each_read() -> None:
    # Terms read once per price id are reused only for an equal copy: $20 + $45 = $65.
    cat = catalogue()
    first = subscription(item(price("2000")), id="sub_1")
    second = subscription(item(price("4500")), id="sub_2")
    assert mrr(first, second, cat=cat) == Decimal("65.00")
    assert mrr(second, cat=cat) == Decimal("45.00")
    assert mrr(first, cat=cat) == Decimal("20.00")
