"""The generated account's products, prices and coupons, and what a price charges.

The catalogue is fixed (independent of the seed) and deliberately covers every
pricing shape a revenue sync must handle: intervals month/year/week/day with
``interval_count`` 1/3/6, per-unit, tiered volume and graduated with flat amounts,
metered usage, ``transform_quantity``, a one-off price, an archived price, and
percent/amount coupons that last forever, repeat, or apply once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .objects import Record

_CREATED = 1_700_000_000  # the catalogue predates every customer


def _tier(up_to: int | None, unit: int | None, flat: int | None = None) -> dict[str, Any]:
    return {
        "flat_amount": flat,
        "flat_amount_decimal": None if flat is None else str(flat),
        "unit_amount": unit,
        "unit_amount_decimal": None if unit is None else str(unit),
        "up_to": up_to,
    }


@dataclass(frozen=True)
class PriceSpec:
    """A price in the catalogue (compact form, turned into a record by ``record``)."""

    key: str
    product: str
    currency: str
    unit_amount: int | None
    interval: str | None = "month"
    interval_count: int = 1
    usage_type: str = "licensed"
    tiers_mode: str | None = None
    tiers: tuple[dict[str, Any], ...] = ()
    transform: tuple[int, str] | None = None
    active: bool = True
    weight: float = 1.0
    seats: bool = False

    def record(self, price_id: str, product_id: str) -> Record:
        """The stored price record."""
        recurring = None
        if self.interval is not None:
            recurring = {
                "interval": self.interval,
                "interval_count": self.interval_count,
                "meter": "mtr_fake_api_calls" if self.usage_type == "metered" else None,
                "usage_type": self.usage_type,
                "trial_period_days": None,
            }
        rec: Record = {
            "id": price_id,
            "created": _CREATED,
            "active": self.active,
            "billing_scheme": "tiered" if self.tiers else "per_unit",
            "currency": self.currency,
            "lookup_key": self.key,
            "nickname": self.key.replace("_", " ").title(),
            "product": product_id,
            "recurring": recurring,
            "tiers_mode": self.tiers_mode,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": self.unit_amount,
        }
        if self.tiers:
            rec["tiers"] = [dict(t) for t in self.tiers]
        if self.transform is not None:
            rec["transform_quantity"] = {"divide_by": self.transform[0], "round": self.transform[1]}
        return rec


@dataclass(frozen=True)
class CouponSpec:
    """A coupon in the catalogue."""

    id: str
    name: str
    duration: str
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration_in_months: int | None = None

    def record(self) -> Record:
        """The stored coupon record."""
        return {
            "id": self.id,
            "created": _CREATED,
            "amount_off": self.amount_off,
            "currency": self.currency,
            "duration": self.duration,
            "duration_in_months": self.duration_in_months,
            "name": self.name,
            "percent_off": self.percent_off,
        }


PRODUCTS: tuple[tuple[str, str], ...] = (
    ("starter", "Starter"),
    ("pro", "Pro"),
    ("team", "Team seats"),
    ("enterprise", "Enterprise"),
    ("storage", "Extra storage"),
    ("api", "API calls"),
    ("digest", "Weekly digest"),
    ("daypass", "Day pass"),
    ("credits", "Email credits"),
    ("setup", "Onboarding package"),
    ("legacy", "Basic (legacy)"),
)

PRICES: tuple[PriceSpec, ...] = (
    PriceSpec("starter_monthly_usd", "starter", "usd", 1900, weight=6),
    PriceSpec("starter_yearly_usd", "starter", "usd", 19000, "year", weight=2),
    PriceSpec("starter_monthly_eur", "starter", "eur", 1700, weight=3),
    PriceSpec("starter_monthly_gbp", "starter", "gbp", 1500, weight=3),
    PriceSpec("starter_monthly_jpy", "starter", "jpy", 2000, weight=3),
    PriceSpec("pro_monthly_usd", "pro", "usd", 4900, weight=5),
    PriceSpec("pro_yearly_usd", "pro", "usd", 49000, "year", weight=2),
    PriceSpec("pro_quarterly_usd", "pro", "usd", 13500, "month", 3, weight=1),
    PriceSpec("pro_semiannual_usd", "pro", "usd", 26000, "month", 6, weight=0.5),
    PriceSpec("pro_monthly_eur", "pro", "eur", 4500, weight=2),
    PriceSpec("pro_yearly_eur", "pro", "eur", 45000, "year", weight=1),
    PriceSpec("pro_quarterly_gbp", "pro", "gbp", 12000, "month", 3, weight=1),
    PriceSpec("pro_yearly_jpy", "pro", "jpy", 50000, "year", weight=1),
    PriceSpec("team_seat_monthly_usd", "team", "usd", 1200, weight=2, seats=True),
    PriceSpec("team_seat_yearly_eur", "team", "eur", 12000, "year", weight=1, seats=True),
    PriceSpec(
        "enterprise_volume_usd",
        "enterprise",
        "usd",
        None,
        tiers_mode="volume",
        tiers=(_tier(10, 5000), _tier(50, 4000, 10000), _tier(None, 3000, 20000)),
        weight=0.7,
        seats=True,
    ),
    PriceSpec(
        "storage_graduated_usd",
        "storage",
        "usd",
        None,
        tiers_mode="graduated",
        tiers=(_tier(5, 0, 500), _tier(100, 200), _tier(None, 100, 1000)),
        weight=0.7,
        seats=True,
    ),
    PriceSpec("api_metered_usd", "api", "usd", 2, usage_type="metered", weight=0.7),
    PriceSpec("digest_weekly_usd", "digest", "usd", 500, "week", weight=0.5),
    PriceSpec("daypass_daily_usd", "daypass", "usd", 100, "day", weight=0.2),
    PriceSpec(
        "credits_per_1000_usd", "credits", "usd", 1000, transform=(1000, "up"), weight=0.5
    ),
    PriceSpec("onboarding_once_usd", "setup", "usd", 9900, None, weight=0),
    PriceSpec("basic_monthly_usd_legacy", "legacy", "usd", 900, active=False, weight=0.6),
)

COUPONS: tuple[CouponSpec, ...] = (
    CouponSpec("LAUNCH25", "25% off forever", "forever", percent_off=25.0),
    CouponSpec("WELCOME50", "50% off 3 months", "repeating", percent_off=50.0,
               duration_in_months=3),
    CouponSpec("SAVE10", "$10 off", "forever", amount_off=1000, currency="usd"),
    CouponSpec("FIRSTFREE", "First month free", "once", percent_off=100.0),
    CouponSpec("EU5", "EUR 5 off 6 months", "repeating", amount_off=500, currency="eur",
               duration_in_months=6),
    CouponSpec("ANNUAL20", "20% off", "forever", percent_off=20.0),
    CouponSpec("HALF15", "15% off 6 months", "repeating", percent_off=15.0, duration_in_months=6),
    CouponSpec("JPY500", "500 yen off", "once", amount_off=500, currency="jpy"),
    CouponSpec("GBP3", "GBP 3 off 12 months", "repeating", amount_off=300, currency="gbp",
               duration_in_months=12),
)


@dataclass
class Catalogue:
    """The catalogue with its generated ids, and lookups the generator needs."""

    products: list[Record] = field(default_factory=list)
    prices: list[Record] = field(default_factory=list)
    coupons: list[Record] = field(default_factory=list)
    specs: dict[str, PriceSpec] = field(default_factory=dict)
    by_currency: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    one_time: dict[str, str] = field(default_factory=dict)
    coupons_for: dict[str, list[str]] = field(default_factory=dict)


def build_catalogue(new_id: Any) -> Catalogue:
    """Products, prices and coupons with ids from ``new_id(object_type)``."""
    cat = Catalogue()
    product_ids: dict[str, str] = {}
    for key, name in PRODUCTS:
        pid = new_id("product")
        product_ids[key] = pid
        cat.products.append(
            {"id": pid, "created": _CREATED, "name": name, "updated": _CREATED,
             "active": key != "legacy", "metadata": {"tier": key}}
        )
    default_price: dict[str, str] = {}
    for spec in PRICES:
        price_id = new_id("price")
        cat.prices.append(spec.record(price_id, product_ids[spec.product]))
        cat.specs[price_id] = spec
        default_price.setdefault(spec.product, price_id)
        if spec.interval is None:
            cat.one_time[spec.currency] = price_id
        elif spec.weight > 0:
            cat.by_currency.setdefault(spec.currency, []).append((price_id, spec.weight))
    for product in cat.products:
        key = product["metadata"]["tier"]
        product["default_price"] = default_price.get(key)
    for coupon in COUPONS:
        cat.coupons.append(coupon.record())
        for currency in ("usd", "eur", "gbp", "jpy"):
            if coupon.currency in (None, currency):
                cat.coupons_for.setdefault(currency, []).append(coupon.id)
    return cat


def period_amount(price: Mapping[str, Any], quantity: int, usage: int = 0) -> int:
    """What one billing period of ``quantity`` costs, in minor units (before discounts).

    Metered prices charge ``usage`` units; tiered prices follow Stripe's volume and
    graduated rules including flat amounts; ``transform_quantity`` divides and rounds.
    """
    recurring = price.get("recurring") or {}
    if recurring.get("usage_type") == "metered":
        quantity = usage
    transform = price.get("transform_quantity")
    if transform:
        div = int(transform["divide_by"])
        quantity = -(-quantity // div) if transform["round"] == "up" else quantity // div
    if price.get("billing_scheme") != "tiered":
        return int(price.get("unit_amount") or 0) * quantity
    tiers: Sequence[Mapping[str, Any]] = price.get("tiers") or ()
    if price.get("tiers_mode") == "volume":
        for tier in tiers:
            if tier["up_to"] is None or quantity <= tier["up_to"]:
                return (tier["unit_amount"] or 0) * quantity + (tier["flat_amount"] or 0)
        return 0
    total, lower = 0, 0
    for tier in tiers:
        upper = tier["up_to"]
        if quantity <= lower:
            break
        in_tier = (quantity if upper is None else min(quantity, upper)) - lower
        total += (tier["unit_amount"] or 0) * in_tier + (tier["flat_amount"] or 0)
        if upper is None:
            break
        lower = upper
    return total


def discounted(amount: int, coupon: Mapping[str, Any]) -> int:
    """``amount`` after one coupon, never below zero."""
    if coupon.get("percent_off"):
        return max(round(amount * (100 - float(coupon["percent_off"])) / 100), 0)
    return max(amount - int(coupon.get("amount_off") or 0), 0)
