"""The explanation of a subscriber's numbers, against hand-computed figures: each part is
the derivation's own term, and the parts shown in cents add up to the stored values."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from revsync.explain.parts import explain
from revsync.revenue import RevenuePolicy
from tests.revenue.factories import (
    EMPTY,
    NOW,
    charge,
    coupon,
    customer,
    discount,
    facts,
    item,
    price,
    subscription,
)

POLICY = RevenuePolicy(fx_rates={"eur": D("1.08")})


def test_items_intervals_quantity_discounts_fx_and_charges_add_up() -> None:
    # sub_usd: 3 x $10.00 a month + $120.00 a year (= $10.00 a month), 10% off the
    # subscription: (30.00 + 10.00) x 0.9 = 36.00.
    # sub_eur: EUR 20.00 a month, at 1.08 = 21.60.  MRR 36.00 + 21.60 = 57.60.
    # Charges: $50.00; EUR 30.00 with 10.00 refunded = EUR 20.00 = 21.60; a failed $99.00
    # counts 0.  LTV 50.00 + 21.60 = 71.60.
    ten = coupon(percent_off=10.0)
    usd = subscription(item(price("1000", id="price_m"), 3, id="si_m"),
                       item(price("12000", id="price_y", interval="year"), 1, id="si_y"),
                       id="sub_usd", discounts=[discount(ten)])
    eur = subscription(item(price("2000", id="price_e", currency="eur"), 1, id="si_e"),
                       id="sub_eur", currency="eur")
    paying = facts(usd, eur, charges=[
        charge(5000, id="ch_1"), charge(3000, 1000, currency="eur", id="ch_2"),
        charge(9900, status="failed", id="ch_3")])
    never = facts(subscription(id="sub_x", status="incomplete"), charges=[],
                  cust=customer(id="cus_2"))
    found = explain([paying, never], EMPTY, POLICY, NOW)

    assert (found.mrr, found.ltv) == (D("57.60"), D("71.60"))
    assert found.tags == ["customer", "saas.monthly", "saas.yearly"]
    [first, second] = found.customers
    assert (first.id, first.eligibility) == ("cus_1", "eligible")
    assert (second.id, second.eligibility, second.subscriptions) == (
        "cus_2", "abandoned_checkout", [])
    sub_usd, sub_eur = first.subscriptions
    assert [(i.price, i.interval, i.per_period, i.currency, i.monthly) for i in sub_usd.items] == [
        ("price_m", "1 month", D("30"), "usd", D("30")),
        ("price_y", "1 year", D("120"), "usd", D("10"))]
    assert sub_usd.monthly == {"usd": D("36")} and sub_eur.monthly == {"eur": D("20")}
    assert sub_usd.converted is not None and sub_eur.converted is not None
    assert (sub_usd.converted.cents, sub_eur.converted.cents) == (D("36.00"), D("21.60"))
    assert sum(s.converted.cents for s in (sub_usd, sub_eur) if s.converted) == found.mrr
    ch_1, ch_2, ch_3 = first.charges
    assert ch_1.converted is not None and ch_2.converted is not None
    assert (ch_1.converted.cents, ch_2.converted.cents, ch_3.converted) == (
        D("50.00"), D("21.60"), None)
    assert found.policy["mrr_statuses"] == ["active", "trialing"]


def test_parts_that_are_not_whole_cents_still_add_up_to_the_rounded_total() -> None:
    # Three weekly $10.00 items: each 10 x 52 / 12 = 43.3333... a month; the subscriber's
    # MRR is 130.00 exactly (3 x 43.333... = 130), shown as 43.34 + 43.33 + 43.33.
    subs = [subscription(item(price("1000", id=f"price_{n}", interval="week")), id=f"sub_{n}")
            for n in range(3)]
    found = explain([facts(*subs)], EMPTY, RevenuePolicy(), NOW)
    parts = [s.converted for s in found.customers[0].subscriptions]
    assert all(p is not None and p.exact == Fraction(130, 3) and p.inexact for p in parts)
    assert sorted(p.cents for p in parts if p) == [D("43.33"), D("43.33"), D("43.34")]
    assert found.mrr == D("130.00") == sum(p.cents for p in parts if p)


def test_a_subscription_the_policy_does_not_count_shows_as_such() -> None:
    found = explain([facts(subscription(id="sub_pd", status="past_due"))], EMPTY,
                    RevenuePolicy(), NOW)
    [part] = found.customers[0].subscriptions
    assert (part.status, part.counted, part.converted, part.tags) == (
        "past_due", False, None, ["customer", "past-due", "saas.monthly"])
    assert found.mrr == D("0.00")
    billing = RevenuePolicy(mrr_statuses=frozenset({"active", "past_due"}))
    assert explain([facts(subscription(id="sub_pd", status="past_due"))], EMPTY, billing,
                   NOW).mrr == D("20.00")
