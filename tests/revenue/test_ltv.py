"""LTV = sum of succeeded charges' amount_captured - amount_refunded."""

from decimal import Decimal

from revsync.revenue import RevenuePolicy, customer_ltv, derive_subscriber

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
