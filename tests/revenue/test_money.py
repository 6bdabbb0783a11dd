from decimal import Decimal
from fractions import Fraction

import pytest

from revsync.revenue.money import (
    convert_exact,
    fx_rate,
    minor_unit_exponent,
    round_cents,
    to_major,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("usd", 2), ("EUR", 2), ("jpy", 0), ("KRW", 0), ("xpf", 0), ("kwd", 3), ("BHD", 3)],
)
def test_minor_unit_exponent(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


def test_to_major() -> None:
    assert to_major(1999, "usd") == Decimal("19.99")
    assert to_major(1000, "jpy") == Decimal("1000")  # zero-decimal: /1
    assert to_major(1500, "kwd") == Decimal("1.5")  # three-decimal: /1000
    assert to_major("12.5", "usd") == Decimal("0.125")  # fractional minor units stay exact
    assert to_major(Decimal("-250"), "usd") == Decimal("-2.5")


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True, 1.5])
def test_to_major_rejects_non_amounts(bad: object) -> None:
    with pytest.raises(ValueError):
        to_major(bad, "usd")  # type: ignore[arg-type]


def test_fx_rate_is_case_insensitive_and_reporting_is_one() -> None:
    rates = {"EUR": Decimal("1.10")}
    assert fx_rate("eur", "usd", rates) == Decimal("1.10")
    assert fx_rate("USD", "usd", rates) == 1
    assert fx_rate("gbp", "usd", rates) is None
    assert fx_rate("eur", "usd", {"eur": Decimal("0")}) is None  # unusable rate = missing


def test_convert() -> None:
    # 10 EUR x 1.10 = 11 USD, exactly
    assert convert_exact(Fraction(10), "eur", "usd", {"eur": Decimal("1.10")}) == Fraction(11)
    assert convert_exact(Fraction(10), "gbp", "usd", {}) is None


def test_round_cents_half_up_once() -> None:
    assert round_cents(Decimal("0.005")) == Decimal("0.01")
    assert round_cents(Decimal("-0.005")) == Decimal("-0.01")
    assert round_cents(Fraction(130, 3)) == Decimal("43.33")  # 43.333...
    assert round_cents(Fraction(365, 12)) == Decimal("30.42")  # 30.41666...
    assert round_cents(Fraction(1, 200)) == Decimal("0.01")  # exactly half a cent
    assert round_cents(Fraction(-1, 200)) == Decimal("-0.01")
    assert round_cents(Fraction(1, 300)) == Decimal("0.00")
    assert str(round_cents(Fraction(10))) == "10.00"
