"""LTV = sum of succeeded charges' amount_captured - amount_refunded."""

from decimal import Decimal

import pytest

from revsync.revenue import RevenueError, RevenuePolicy, customer_ltv, derive_subscriber

from .factories import EMPTY, NOW, charge, facts

POLICY = RevenuePolicy()


def ltv(*charges: dict[str, object]) -> Decimal | None:
    return derive_subscriber([facts(charges=list(charges))], EMPTY, POLICY, NOW).ltv


def test_sum_of_succeeded_charges() -> None:
    # $50 + $25.50 = $75.50
    assert ltv(charge(5000, id="a"), charge(2550, id="b")) == Decimal("75.50")


def test_partial_refund_reduces() -> None:
    # $50 - $20 refunded + $10 = $40
    assert ltv(charge(5000, 2000, id="a"), charge(1000, id="b")) == Decimal("40.00")


def test_full_refund_counts_zero() -> None:
    # $50 - $50 + $10 = $10
    assert ltv(charge(5000, 5000, id="a"), charge(1000, id="b")) == Decimal("10.00")


def refund(amount: int, status: str) -> dict[str, object]:
    return {"id": f"re_{status}", "object": "refund", "amount": amount, "status": status}


def test_failed_refund_restored_by_rereading_charge() -> None:
    # A $20 refund of a $50 charge, first pending: the charge says amount_refunded 2000
    # -> $30. The refund then fails: Stripe puts the $20 back, so the re-read charge says
    # amount_refunded 0 while its refund list still holds the failed refund -> $50.
    pending = charge(5000, 2000)
    pending["refunds"] = {"object": "list", "data": [refund(2000, "pending")]}
    failed = charge(5000, 0)
    failed["refunds"] = {"object": "list", "data": [refund(2000, "failed")]}
    assert ltv(pending) == Decimal("30.00")
    assert ltv(failed) == Decimal("50.00")


def test_failed_pending_and_uncaptured_count_zero() -> None:
    # failed $99, pending $88, uncaptured (succeeded, captured 0) -> only $10
    charges = [
        charge(9900, status="failed", id="f"),
        charge(8800, status="pending", id="p"),
        charge(0, id="u"),
        charge(1000, id="ok"),
    ]
    assert ltv(*charges) == Decimal("10.00")


def test_customer_ltv_helper_is_unrounded() -> None:
    facts_ = facts(charges=[charge(1, currency="kwd")])
    # 1 fils = 0.001 KWD at 3.25 = 0.00325 USD (unrounded)
    policy = RevenuePolicy(fx_rates={"kwd": Decimal("3.25")})
    assert customer_ltv(facts_, policy) == Decimal("0.00325")


def test_charges_in_several_currencies_convert_exactly() -> None:
    # $19.99 + 2 x EUR 5.005 (1001 cents) at 1.08 + JPY 500 at 0.0066 + KWD 1.234 at 3.25
    # = 19.99 + 10.8108 + 3.30 + 4.0105 = 38.1113, rounded once: $38.11
    charges = [charge(1999, id="u"), charge(500, currency="eur", id="e1"),
               charge(501, currency="EUR", id="e2"), charge(500, currency="jpy", id="j"),
               charge(1234, currency="kwd", id="k")]
    policy = RevenuePolicy(fx_rates={"eur": Decimal("1.08"), "JPY": Decimal("0.0066"),
                                     "kwd": Decimal("3.25")})
    assert customer_ltv(facts(charges=charges), policy) == Decimal("38.1113")
    derived = derive_subscriber([facts(charges=charges)], EMPTY, policy, NOW)
    assert derived.ltv == Decimal("38.11")


def test_a_currency_without_a_rate_is_left_out_and_counted() -> None:
    # $10 counted; the two GBP charges have no rate: left out, two counted as unconverted
    charges = [charge(1000, id="u"), charge(700, currency="gbp", id="g1"),
               charge(300, currency="gbp", id="g2")]
    derived = derive_subscriber([facts(charges=charges)], EMPTY, POLICY, NOW)
    assert derived.ltv == Decimal("10.00")
    assert derived.unconverted == {"gbp": 2}


def test_one_charge_past_the_conversion_limit_is_an_error_naming_it() -> None:
    # 10^15 USD is the limit; JPY 10^14 at 10.5 is 1.05 x 10^15 (a mistyped rate). Two
    # charges of half that each stay under it one by one, as the rule is per charge.
    policy = RevenuePolicy(fx_rates={"jpy": Decimal("10.5")})
    half = facts(charges=[charge(5 * 10**13, currency="jpy", id=f"j{n}") for n in (1, 2)])
    assert customer_ltv(half, policy) == Decimal(105 * 10**13)
    whole = facts(charges=[charge(10**13, currency="jpy", id="a"),
                           charge(10**14, currency="jpy", id="b")])
    with pytest.raises(RevenueError, match=r"100000000000000 jpy at FX rate 10\.5"):
        customer_ltv(whole, policy)
