"""Lifetime value: total payments minus refunds.

Sum over charges with ``status = succeeded`` of ``amount_captured - amount_refunded``
(so uncaptured and failed charges count 0, partial refunds reduce it, and a refund
that failed is already restored in a re-read charge's ``amount_refunded``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from revsync.revenue.money import (
    MAX_CONVERTED,
    convert_exact,
    fraction_to_decimal,
    minor_unit_exponent,
)

from .model import CustomerFacts, RevenuePolicy, Tally
from .read import as_dict, as_int, get_str, lower


def customer_ltv_exact(
    facts: CustomerFacts,
    policy: RevenuePolicy,
    tally: Tally | None = None,
    unconverted: Tally | None = None,
) -> Fraction:
    """Exact LTV of one customer in the reporting currency.

    A charge whose net is negative or whose amounts are unreadable contributes 0 and
    is counted in ``tally``; a non-zero net in a currency without a rate is left out
    and counted in ``unconverted``.
    """
    tally = Tally() if tally is None else tally
    unconverted = Tally() if unconverted is None else unconverted
    nets: dict[str, int] = {}  # minor units per currency: integers, converted once each
    # Per currency as the charges spell it: the code, and its `_Conversion` (None without
    # a rate); worked out once per spelling, not once per charge.
    currencies: dict[str, tuple[str, _Conversion | None]] = {}
    # The loop runs once per charge a customer ever had: the usual shapes (a dict, the
    # exact status, integer amounts, a currency already seen) are taken before the
    # general readers.
    for raw in facts.charges:
        charge = raw if type(raw) is dict else as_dict(raw)
        if charge is None:
            tally["invalid_charge"] += 1
            continue
        if charge.get("status") != "succeeded" and lower(get_str(charge, "status")) \
                != "succeeded":
            continue
        captured = _minor(charge.get("amount_captured"))
        refunded = _minor(charge.get("amount_refunded"), 0)
        if captured is None or refunded is None:
            tally["invalid_amount"] += 1
            continue
        net = captured - refunded
        if net < 0 or captured < 0 or refunded < 0:
            tally["negative_amount"] += 1
            continue
        if net == 0:
            continue
        given = charge.get("currency")
        seen = currencies.get(given) if type(given) is str else None
        if seen is None:
            currency = lower(get_str(charge, "currency"))
            if currency is None:
                tally["currency_missing"] += 1
                continue
            seen = (currency, _conversion(currency, policy))
            if type(given) is str:
                currencies[given] = seen
        currency, known = seen
        if known is None:
            unconverted[currency] += 1
            continue
        if net > known.largest_net:
            convert_exact(Fraction(net, known.scale), currency, policy.reporting_currency,
                          policy.fx_rates)  # raises, naming this charge's amount
        nets[currency] = nets.get(currency, 0) + net
    # Conversion is linear, so converting each currency's integer sum equals the sum of
    # the charges' converted amounts, exactly, at one Fraction product per currency.
    rates = dict(currencies.values())
    total = Fraction(0)
    for currency, net in nets.items():
        known = rates[currency]
        assert known is not None  # only currencies with a rate are summed
        total += Fraction(net, known.scale) * known.rate
    return total


@dataclass(frozen=True)
class _Conversion:
    """How a charge's net in one currency becomes reporting units."""

    rate: Fraction  # reporting units per major unit
    scale: int  # minor units per major unit
    # The largest net (minor units) that converts to at most MAX_CONVERTED: a net times
    # rate.numerator above MAX_CONVERTED x scale x rate.denominator is one above its
    # floor quotient, as nets are integers and the numerator is positive.
    largest_net: int


def _conversion(currency: str, policy: RevenuePolicy) -> _Conversion | None:
    rate = policy.rate(currency)
    if rate is None:
        return None
    scale = 10 ** minor_unit_exponent(currency)
    return _Conversion(rate, scale,
                       MAX_CONVERTED * scale * rate.denominator // rate.numerator)


def _minor(value: object, absent: int | None = None) -> int | None:
    """An amount in minor units (`as_int`); `absent` when missing."""
    if type(value) is int:
        return value
    return absent if value is None else as_int(value)


def customer_ltv(facts: CustomerFacts, policy: RevenuePolicy) -> Decimal:
    """Unrounded LTV of one customer in the reporting currency."""
    return fraction_to_decimal(customer_ltv_exact(facts, policy))
