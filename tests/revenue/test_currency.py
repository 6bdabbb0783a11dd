"""Zero- and three-decimal currencies, FX conversion, and amounts without a rate."""

from decimal import Decimal

import pytest

from revsync.revenue import RevenueError, RevenuePolicy, derive_subscriber

from .factories import EMPTY, NOW, charge, facts, item, price, subscription

RATES = {"jpy": Decimal("0.0067"), "KWD": Decimal("3.25"), "eur": Decimal("1.08")}
POLICY = RevenuePolicy(fx_rates=RATES)


def test_zero_decimal_jpy() -> None:
    # 1500 JPY/month is 1500 major units (not 15.00): 1500 x 0.0067 = 10.05 USD
    # LTV: 3000 JPY x 0.0067 = 20.10 USD
    sub = subscription(item(price("1500", currency="jpy")), currency="jpy")
    result = derive_subscriber(
        [facts(sub, charges=[charge(3000, currency="jpy")])], EMPTY, POLICY, NOW
    )
    assert result.mrr == Decimal("10.05")
    assert result.ltv == Decimal("20.10")


def test_three_decimal_kwd() -> None:
    # 12.000 KWD/year = 12000 minor units; /12 = 1.000 KWD/month x 3.25 = 3.25 USD
    # LTV: 1500 minor = 1.500 KWD x 3.25 = 4.875 -> 4.88 (half up)
    sub = subscription(item(price("12000", currency="kwd", interval="year")), currency="kwd")
    result = derive_subscriber(
        [facts(sub, charges=[charge(1500, currency="kwd")])], EMPTY, POLICY, NOW
    )
    assert result.mrr == Decimal("3.25")
    assert result.ltv == Decimal("4.88")


def test_fx_conversion_and_reporting_currency() -> None:
    # 20 EUR x 1.08 = 21.60 USD, plus $10 = 31.60
    subs = [
        subscription(item(price("2000", currency="eur")), id="s_eur", currency="eur"),
        subscription(item(price("1000")), id="s_usd"),
    ]
    result = derive_subscriber([facts(*subs)], EMPTY, POLICY, NOW)
    assert result.mrr == Decimal("31.60")
    assert result.unconverted == {}


def test_reporting_currency_other_than_usd() -> None:
    # reporting EUR: 20 EUR at implicit rate 1 + $10 at 0.9 EUR/USD = 29.00 EUR
    policy = RevenuePolicy(reporting_currency="EUR", fx_rates={"usd": Decimal("0.9")})
    subs = [
        subscription(item(price("2000", currency="eur")), id="s_eur", currency="eur"),
        subscription(item(price("1000")), id="s_usd"),
    ]
    result = derive_subscriber([facts(*subs, charges=[charge(1000)])], EMPTY, policy, NOW)
    assert result.mrr == Decimal("29.00")
    assert result.ltv == Decimal("9.00")  # $10 x 0.9


def test_missing_rate_is_left_out_and_counted() -> None:
    # GBP has no rate: the GBP subscription and the GBP charge are left out, never read as USD
    subs = [
        subscription(item(price("2000", currency="gbp")), id="s_gbp", currency="gbp"),
        subscription(item(price("1000")), id="s_usd"),
    ]
    charges = [charge(5000, currency="gbp", id="ch_gbp"), charge(700, id="ch_usd")]
    result = derive_subscriber([facts(*subs, charges=charges)], EMPTY, POLICY, NOW)
    assert result.mrr == Decimal("10.00")
    assert result.ltv == Decimal("7.00")
    assert result.unconverted == {"gbp": 2}


def test_currency_codes_case_insensitive() -> None:
    sub = subscription(item(price("2000", currency="EUR")), currency="EUR")
    result = derive_subscriber([facts(sub)], EMPTY, POLICY, NOW)
    assert result.mrr == Decimal("21.60")  # 20 x 1.08


# Every currency with an exponent other than 2, written out (not read from the code).
ZERO_DECIMAL = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"]
THREE_DECIMAL = ["bhd", "jod", "kwd", "omr", "tnd"]


def one_currency(currency: str, monthly_minor: int, paid_minor: int) -> tuple[Decimal | None,
                                                                             Decimal | None]:
    policy = RevenuePolicy(fx_rates={currency: Decimal("1")})  # 1 unit = 1 USD
    sub = subscription(item(price(str(monthly_minor), currency=currency)), currency=currency)
    result = derive_subscriber([facts(sub, charges=[charge(paid_minor, currency=currency)])],
                               EMPTY, policy, NOW)
    return result.mrr, result.ltv


@pytest.mark.parametrize("currency", ZERO_DECIMAL)
def test_zero_decimal_currencies_are_whole_units(currency: str) -> None:
    # 1234 minor units are 1234 major units: 1234.00 at a rate of 1.
    # LTV: 5 minor units are 5.00 (not 0.05).
    assert one_currency(currency, 1234, 5) == (Decimal("1234.00"), Decimal("5.00"))
    assert one_currency(currency.upper(), 1234, 5) == (Decimal("1234.00"), Decimal("5.00"))


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_three_decimal_currencies_are_thousandths(currency: str) -> None:
    # 1234 minor units are 1.234 -> 1.23; 1235 are 1.235 -> 1.24 (half up, rounded once).
    assert one_currency(currency, 1234, 1235) == (Decimal("1.23"), Decimal("1.24"))


def test_a_two_decimal_currency_is_hundredths() -> None:
    # The contrast: 1234 minor units of eur are 12.34.
    assert one_currency("eur", 1234, 5) == (Decimal("12.34"), Decimal("0.05"))


def test_an_fx_rate_that_overflows_names_the_amount_and_currency() -> None:
    # 50.00 eur at 1e999 is not a number any report can hold: refused, saying what.
    policy = RevenuePolicy(fx_rates={"eur": Decimal("1e999")})
    sub = subscription(item(price("5000", currency="eur")), currency="eur")
    with pytest.raises(RevenueError, match=r"50 eur at FX rate 1E\+999"):
        derive_subscriber([facts(sub, charges=[charge(5000, currency="eur")])], EMPTY, policy,
                          NOW)
