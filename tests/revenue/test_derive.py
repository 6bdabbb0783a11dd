"""derive_subscriber end to end: several customers per email, rounding once."""

from decimal import Decimal

from revsync.revenue import Derived, RevenuePolicy, derive_subscriber

from .factories import EMPTY, NOW, charge, customer, facts, item, price, subscription

POLICY = RevenuePolicy()


def test_several_customers_share_one_email() -> None:
    # cus_a: $20/month, LTV $50 - $5 refunded; cus_b: $120/year (=10), LTV 30
    # MRR 20 + 10 = 30; LTV 45 + 30 = 75
    a = facts(
        subscription(item(price("2000")), id="s_a"),
        charges=[charge(5000, 500, id="ch_a")],
        cust=customer("cus_a", "Jane@Example.com"),
    )
    b = facts(
        subscription(item(price("12000", interval="year")), id="s_b"),
        charges=[charge(3000, id="ch_b")],
        cust=customer("cus_b", " jane@example.COM "),
    )
    result = derive_subscriber([a, b], EMPTY, POLICY, NOW)
    assert result == Derived(
        eligible=True,
        mrr=Decimal("30.00"),
        ltv=Decimal("75.00"),
        tags=frozenset({"customer", "saas.monthly", "saas.yearly"}),
        metadata={},
        eligible_customer_ids=("cus_a", "cus_b"),
        unconverted={},
        anomalies={},
    )


def test_rounded_once_not_per_customer() -> None:
    # three customers each $1/day/3 ... use $10/week: 43.333.. each
    # per-customer rounding would give 3 x 43.33 = 129.99; exact 3 x 130/3 = 130.00
    customers = [
        facts(subscription(item(price("1000", interval="week"))), cust=customer(f"cus_{i}"))
        for i in range(3)
    ]
    assert derive_subscriber(customers, EMPTY, POLICY, NOW).mrr == Decimal("130.00")


def test_rounded_once_across_items() -> None:
    # 3 items of $1/day/7 each = 365/84 = 4.345238..; x3 = 13.0357.. -> 13.04
    # (per-item rounding: 3 x 4.35 = 13.05)
    sub = subscription(
        *(item(price("100", id=f"p{i}", interval="day", interval_count=7)) for i in range(3))
    )
    assert derive_subscriber([facts(sub)], EMPTY, POLICY, NOW).mrr == Decimal("13.04")


def test_mrr_and_ltv_are_two_decimal_strings() -> None:
    result = derive_subscriber([facts(subscription())], EMPTY, POLICY, NOW)
    assert str(result.mrr) == "20.00"
    assert str(result.ltv) == "1.00"


def test_skipped_customers_counted_by_reason() -> None:
    """A sync's report adds up why customers were left out, from the derivation itself."""
    paid = facts(subscription(item(price("2000"))), charges=[charge(2000)], cust=customer("cus_a"))
    abandoned = facts(charges=[], cust=customer("cus_b"))  # never paid, no subscription
    gone = facts(cust={**customer("cus_c"), "deleted": True})
    result = derive_subscriber([abandoned, paid, gone, abandoned], EMPTY, POLICY, NOW)
    assert result.eligible_customer_ids == ("cus_a",)
    assert result.skipped == {"abandoned_checkout": 2, "deleted_customer": 1}
    assert derive_subscriber([abandoned], EMPTY, POLICY, NOW).skipped == {"abandoned_checkout": 1}
