"""Money arithmetic for Stripe amounts: minor units, FX conversion, rounding.

Stripe sends integer amounts in a currency's *minor* unit, and the exponent is not
always 2. Revenue figures are reported in one reporting currency, rounded to cents
exactly once at the very end, so everything here is exact (``Decimal`` at the API,
``Fraction`` where sums of non-terminating quotients such as ``/ 12`` must stay
exact). Floats are never used.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

CENT = Decimal("0.01")


MIN_FX_RATE = Decimal("0.000000001")
MAX_FX_RATE = Decimal("1000000")
# No revenue figure is this large; a converted amount beyond it means a rate is wrong.
MAX_CONVERTED = 10**15


class RevenueError(ValueError):
    """A definition cannot give a number (the message says which amount and currency): no
    retry can fix it, only a change of the workspace's options."""


def check_fx_rate(currency: str, rate: object) -> Decimal:
    """A rate as given by a person (`eur=1.08`), bounded to what a real rate can be."""
    try:
        number = Decimal(str(rate).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not MIN_FX_RATE <= number <= MAX_FX_RATE:
        raise ValueError(
            f"FX rate for {currency!r} must be a number from {MIN_FX_RATE:f} to "
            f"{MAX_FX_RATE:,}, not {rate!r}"
        )
    return number


def normalize_currency(currency: str) -> str:
    """Currency codes compare case-insensitively (Stripe sends lowercase, people type USD)."""
    return currency.strip().lower()


def minor_unit_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (0, 2 or 3)."""
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def parse_amount(value: int | str | Decimal) -> Decimal:
    """A Stripe amount (int, decimal string such as ``unit_amount_decimal``, or Decimal).

    Raises ``ValueError`` for booleans, non-numeric strings, NaN and infinities, so a
    caller can decide how to record a malformed amount instead of getting a silent 0.
    """
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    else:
        raise ValueError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def to_major(amount_minor: int | str | Decimal, currency: str) -> Decimal:
    """Minor units -> major units, exactly (``scaleb`` only shifts the exponent)."""
    return parse_amount(amount_minor).scaleb(-minor_unit_exponent(currency))


def to_major_exact(amount_minor: Fraction, currency: str) -> Fraction:
    """Same as :func:`to_major` for an exact rational amount already in minor units."""
    return amount_minor / Fraction(10 ** minor_unit_exponent(currency))


def fx_rate(currency: str, reporting_currency: str, rates: Mapping[str, Decimal]) -> Decimal | None:
    """Reporting-currency units per 1 major unit of ``currency``; None when unknown.

    The reporting currency is implicitly 1. Keys of ``rates`` match case-insensitively.
    A non-positive or non-numeric rate counts as missing: converting with it would
    invent revenue (or erase it) rather than leave it out visibly.
    """
    code = normalize_currency(currency)
    if code == normalize_currency(reporting_currency):
        return Decimal(1)
    for key, rate in rates.items():
        if normalize_currency(key) == code:
            try:
                parsed = parse_amount(rate)
            except ValueError:
                return None
            return parsed if parsed > 0 else None
    return None


def round_cents(value: Decimal | Fraction) -> Decimal:
    """Round once, half-up (ties away from zero), to cents.

    For a ``Fraction`` the result equals what ``Decimal.quantize(CENT, ROUND_HALF_UP)``
    would give on the exact value; it is computed with integers so no intermediate
    decimal rounding can move a value across a half-cent boundary.
    """
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    # On the numerator and denominator: Fraction arithmetic would build a new Fraction
    # (and its gcd) at each step.
    hundredths = value.numerator * 100  # over value.denominator, which is positive
    whole, rest = divmod(abs(hundredths), value.denominator)
    if rest * 2 >= value.denominator:
        whole += 1
    signed = -whole if hundredths < 0 else whole
    return Decimal(signed).scaleb(-2).quantize(CENT)


def fraction_to_decimal(value: Fraction, digits: int = 50) -> Decimal:
    """An exact rational as a Decimal with ``digits`` significant digits (for display only).

    Sums are done on the exact ``Fraction``; this is for exposing unrounded figures.
    """
    with localcontext() as ctx:
        ctx.prec = digits
        return Decimal(value.numerator) / Decimal(value.denominator)


def convert_exact(
    amount_major: Fraction, currency: str, reporting_currency: str, rates: Mapping[str, Decimal]
) -> Fraction | None:
    """A major-unit amount in the reporting currency, exact and unrounded; None without a
    rate."""
    rate = fx_rate(currency, reporting_currency, rates)
    if rate is None:
        return None
    converted = amount_major * Fraction(rate)
    if abs(converted) > MAX_CONVERTED:
        raise RevenueError(
            f"{fraction_to_decimal(amount_major).normalize():f} {normalize_currency(currency)} "
            f"at FX rate {rate} is more than {MAX_CONVERTED:,} {reporting_currency}; check the "
            "workspace's FX rates"
        )
    return converted
