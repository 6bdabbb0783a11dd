"""Stripe-managed tags, per the table in docs/revenue-definitions.md."""

from typing import Any

import pytest

from revsync.revenue import STRIPE_TAGS, RevenuePolicy, derive_subscriber

from .factories import EMPTY, NOW, customer, facts, item, price, subscription

POLICY = RevenuePolicy()


def tags(*subs: dict[str, Any]) -> frozenset[str]:
    return derive_subscriber([facts(*subs)], EMPTY, POLICY, NOW).tags


def test_stripe_tags_constant() -> None:
    assert {
        "customer",
        "trial",
        "past-due",
        "cancelled",
        "churned",
        "saas.monthly",
        "saas.yearly",
    } == STRIPE_TAGS


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", {"customer", "saas.monthly"}),
        ("past_due", {"customer", "past-due", "saas.monthly"}),
        ("trialing", {"trial", "saas.monthly"}),
        ("canceled", {"churned"}),
        ("unpaid", {"churned"}),
        ("paused", set()),  # not live, not ended
        ("incomplete", set()),
        ("incomplete_expired", set()),
    ],
)
def test_status_tags(status: str, expected: set[str]) -> None:
    assert tags(subscription(status=status)) == expected


def test_churned_only_without_live_subscription() -> None:
    subs = [subscription(id="old", status="canceled"), subscription(id="new", status="active")]
    assert tags(*subs) == {"customer", "saas.monthly"}


def test_cancelled_via_cancel_at_period_end() -> None:
    sub = subscription(cancel_at_period_end=True)
    assert tags(sub) == {"customer", "cancelled", "saas.monthly"}


def test_cancelled_via_cancel_at() -> None:
    sub = subscription(status="trialing", cancel_at=NOW + 86_400)
    assert tags(sub) == {"trial", "cancelled", "saas.monthly"}


def test_cancelled_needs_a_live_subscription() -> None:
    sub = subscription(status="canceled", cancel_at_period_end=True, cancel_at=NOW)
    assert tags(sub) == {"churned"}


@pytest.mark.parametrize(
    ("interval", "count", "expected"),
    [
        ("month", 1, {"customer", "saas.monthly"}),
        ("year", 1, {"customer", "saas.yearly"}),
        ("month", 3, {"customer"}),  # quarterly: neither
        ("year", 2, {"customer"}),
        ("week", 1, {"customer"}),
    ],
)
def test_saas_interval_tags(interval: str, count: int, expected: set[str]) -> None:
    sub = subscription(item(price(interval=interval, interval_count=count)))
    assert tags(sub) == expected


def test_saas_tags_only_for_live_subscriptions() -> None:
    sub = subscription(item(price(interval="year")), status="canceled")
    assert tags(sub) == {"churned"}


def test_tags_union_over_eligible_customers() -> None:
    # one customer churned, another one trialing yearly: the union of both tag sets
    a = facts(subscription(status="canceled"), cust=customer("cus_a"))
    b = facts(subscription(item(price(interval="year")), status="trialing"), cust=customer("cus_b"))
    result = derive_subscriber([a, b], EMPTY, POLICY, NOW)
    assert result.tags == {"churned", "trial", "saas.yearly"}


def test_ineligible_customer_tags_not_included() -> None:
    a = facts(subscription(status="active"), cust=customer("cus_a"))
    never_paid = facts(subscription(status="past_due"), cust=customer("cus_b"), charges=[])
    result = derive_subscriber([a, never_paid], EMPTY, POLICY, NOW)
    assert result.tags == {"customer", "saas.monthly"}  # no past-due from cus_b
    assert result.tags <= STRIPE_TAGS
