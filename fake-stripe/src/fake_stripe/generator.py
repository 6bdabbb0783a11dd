"""A seeded, realistic Stripe account: the demo's data and the tests' haystack.

Same ``(customers, seed, now)`` -> the same objects, ids and timestamps. Every case a
revenue sync must get right appears: all subscription statuses, scheduled
cancellations, quantities, discounts at item/subscription/customer level, four
currencies (JPY zero-decimal), failed/uncaptured/refunded charges, paid invoices with
product lines, customers without email or sharing one, abandoned checkouts, and
subscriptions and invoices with more items and lines than Stripe embeds (``long_lists``).
"""

from __future__ import annotations

import gc
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any, Final

from .catalogue import Catalogue, build_catalogue, discounted, period_amount
from .ids import IdFactory
from .long_lists import LongLists, is_monthly
from .objects import Record
from .periods import add_interval, days, periods_between, to_timestamp

#: The default "now": results are reproducible whatever the wall clock says.
DEFAULT_NOW: Final = to_timestamp(datetime(2026, 11, 1))
HISTORY: Final = days(3 * 365)
DAY: Final = days(1)

_FIRST: Final = (
    "olivia", "liam", "emma", "noah", "ava", "elijah", "sophia", "lucas", "mia", "mateo", "amelia",
    "levi", "harper", "ezra", "evelyn", "luca", "aria", "asher", "chloe", "leo", "nora", "james",
    "yuki", "hana", "sven", "ingrid", "pierre", "chloe", "giulia", "marco", "aisha", "omar",
    "priya", "arjun", "wei", "mei", "carlos", "lucia", "fatima", "ali", "zoe", "finn",
)
_LAST: Final = (
    "smith", "johnson", "garcia", "brown", "davis", "miller", "wilson", "moore", "taylor",
    "anderson", "thomas", "martin", "lee", "perez", "white", "harris", "clark", "lewis", "walker",
    "young", "allen", "king", "wright", "scott", "green", "baker", "adams", "nelson", "hill",
    "tanaka", "sato", "muller", "schmidt", "dubois", "rossi", "silva", "kim", "nguyen", "patel",
    "khan", "cohen",
)
_DOMAINS: Final = (
    "gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "fastmail.com", "acme.io",
    "example.org", "startup.dev", "bigcorp.com", "web.de", "orange.fr", "btinternet.com",
    "yahoo.co.jp",
)
_COMPANIES: Final = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Soylent", "Tyrell", "Cyberdyne", "Vandelay", "Pied Piper",
)
_CURRENCIES: Final = (("usd", 0.65), ("eur", 0.15), ("gbp", 0.10), ("jpy", 0.10))
_STATUSES: Final = (
    ("active", 52), ("trialing", 7), ("past_due", 5), ("canceled", 24), ("unpaid", 3),
    ("incomplete", 2), ("incomplete_expired", 3), ("paused", 3),
)
_SUB_COUNTS: Final = ((0, 0.10), (1, 0.58), (2, 0.23), (3, 0.05))
_ABANDONED_RATE: Final = 0.04
_FEEDBACK: Final = ("too_expensive", "switched_service", "unused", "missing_features", None)
_FIRST_CHARGE: Final = "Subscription creation"
_NEXT_CHARGE: Final = "Subscription update"


@dataclass
class Account:
    """Generated records per type (compact form; load them with ``FakeStripe.load``)."""

    seed: int
    now: int
    products: list[Record] = field(default_factory=list)
    prices: list[Record] = field(default_factory=list)
    coupons: list[Record] = field(default_factory=list)
    customers: list[Record] = field(default_factory=list)
    discounts: list[Record] = field(default_factory=list)
    subscriptions: list[Record] = field(default_factory=list)
    charges: list[Record] = field(default_factory=list)
    refunds: list[Record] = field(default_factory=list)
    invoices: list[Record] = field(default_factory=list)
    #: Customers who started a checkout and never paid (only incomplete subscriptions).
    abandoned: list[str] = field(default_factory=list)

    def records(self) -> dict[str, list[Record]]:
        """Records keyed by Stripe object type."""
        return {
            "product": self.products,
            "price": self.prices,
            "coupon": self.coupons,
            "discount": self.discounts,
            "customer": self.customers,
            "subscription": self.subscriptions,
            "charge": self.charges,
            "refund": self.refunds,
            "invoice": self.invoices,
        }


def generate_account(
    customers: int,
    seed: int = 0,
    *,
    now: int | datetime = DEFAULT_NOW,
    max_charges_per_subscription: int = 30,
) -> Account:
    """A deterministic account with ``customers`` customers (~1.2 subscriptions and
    ~8 charges each) whose history spans the three years before ``now``."""
    now_ts = to_timestamp(now) if isinstance(now, datetime) else int(now)
    with gc_paused():
        return _Generator(seed, now_ts, max_charges_per_subscription).run(customers)


def subscriber_emails(
    account: Account, match_ratio: float = 0.9, seed: int = 0, extra_ratio: float = 0.1
) -> list[str]:
    """An email platform's subscriber list for ``account``.

    About ``match_ratio`` of the distinct customer emails appear, in varied case and
    with stray whitespace (matching must trim and case-fold), plus ``extra_ratio``
    as many addresses that match no customer. Deterministic for a seed.
    """
    rng = random.Random(f"subscribers-{seed}")
    distinct: dict[str, str] = {}
    for cust in account.customers:
        email = cust.get("email")
        if email:
            distinct.setdefault(email.strip().casefold(), email)
    emails = sorted(distinct.values())
    matched = rng.sample(emails, round(len(emails) * match_ratio))
    out = [_vary(rng, e) for e in matched]
    for i in range(round(len(emails) * extra_ratio)):
        out.append(f"reader{i}.{rng.randrange(10**6)}@newsletter-only.example")
    rng.shuffle(out)
    return out


def _vary(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        email = email.upper()
    elif roll < 0.3:
        email = email[:1].upper() + email[1:]
    elif roll < 0.4:
        email = email.swapcase()
    pad = rng.random()
    if pad < 0.1:
        return f"  {email} "
    if pad < 0.15:
        return f"\t{email}\n"
    return email


class _Picker:
    """Weighted choice with precomputed cumulative weights (hot in the generator)."""

    def __init__(self, options: Sequence[tuple[Any, float]]) -> None:
        self.values = [o for o, _ in options]
        self.cumulative = list(accumulate(w for _, w in options))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building millions of acyclic dicts (several x faster)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Generator:
    """Holds the RNG and output while one account is generated."""

    def __init__(self, seed: int, now: int, max_charges: int) -> None:
        self.rng = random.Random(seed)
        self.ids = IdFactory(f"account-{seed}")
        self.now = now
        self.max_charges = max_charges
        self.acc = Account(seed=seed, now=now)
        self.cat: Catalogue = build_catalogue(self.ids.new)
        self.acc.products = self.cat.products
        self.acc.prices = self.cat.prices
        self.acc.coupons = self.cat.coupons
        # Subscriptions and invoices longer than Stripe embeds, with their add-on prices.
        self.long = LongLists(seed)
        self.cat.specs.update(self.long.specs)
        self.acc.products = [*self.cat.products, self.long.product]
        self.acc.prices = [*self.cat.prices, *self.long.prices]
        self.prices = {p["id"]: p for p in self.acc.prices}
        self.coupons = {c["id"]: c for c in self.cat.coupons}
        self.emails: list[str] = []
        self.discounts: dict[str, Record] = {}
        self.pick_currency = _Picker(_CURRENCIES)
        self.pick_status = _Picker(_STATUSES)
        self.pick_count = _Picker(_SUB_COUNTS)
        self.pick_price = {cur: _Picker(opts) for cur, opts in self.cat.by_currency.items()}

    def run(self, customers: int) -> Account:
        for i in range(customers):
            self._customer(i)
        return self.acc

    # ---- customers ----------------------------------------------------------------

    def _customer(self, i: int) -> None:
        rng, now = self.rng, self.now
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        created = now - int(HISTORY * rng.random() ** 0.9) - rng.randrange(1, 3600)
        rec: Record = {
            "id": self.ids.new("customer"),
            "created": created,
            "email": self._email(first, last, i),
            "name": f"{first.title()} {last.title()}",
            "invoice_prefix": f"{rng.getrandbits(32):08X}",
        }
        roll = rng.random()
        if roll < 0.3:
            rec["metadata"] = {"plan": rng.choice(("starter", "pro", "team")),
                               "company": rng.choice(_COMPANIES)}
        elif roll < 0.4:
            rec["metadata"] = {"company": rng.choice(_COMPANIES)}
        self.acc.customers.append(rec)
        currency = self.pick_currency(rng)
        if rng.random() < _ABANDONED_RATE:
            self._abandoned(rec, currency)
            return
        count = self.pick_count(rng)
        if count and rng.random() < 0.02:
            rec["discount"] = self._discount(created, currency, customer=rec["id"])
        paid = False
        for _ in range(count):
            status = self.pick_status(rng)
            paid |= self._subscription(rec, currency, status)
        if count:
            rec["currency"] = currency
        if (paid and rng.random() < 0.08) or (not count and rng.random() < 0.3):
            for _ in range(rng.randint(1, 3)):
                self._one_off_charge(rec, currency)

    def _email(self, first: str, last: str, i: int) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return None
        if roll < 0.07 and self.emails:
            shared = rng.choice(self.emails)
            return shared.upper() if rng.random() < 0.5 else shared
        email = f"{first}.{last}{i}@{rng.choice(_DOMAINS)}"
        if rng.random() < 0.05:
            email = f"{first.title()}.{last.title()}{i}@{rng.choice(_DOMAINS)}"
        self.emails.append(email)
        return email

    def _abandoned(self, cust: Record, currency: str) -> None:
        status = "incomplete" if self.rng.random() < 0.3 else "incomplete_expired"
        self._subscription(cust, currency, status)
        self.acc.abandoned.append(cust["id"])

    # ---- subscriptions ------------------------------------------------------------

    def _subscription(self, cust: Record, currency: str, status: str) -> bool:
        """Add one subscription with its charges and invoices; True if it was paid for."""
        rng, now = self.rng, self.now
        lo = cust["created"]
        trial = status in ("trialing", "paused") or (
            status not in ("incomplete", "incomplete_expired") and rng.random() < 0.25
        )
        if status == "paused" and lo > now - days(15):
            status = "trialing"
        if status == "trialing":
            created = max(lo, now - rng.randrange(DAY, days(13)))
        elif status == "incomplete":
            created = max(lo, now - rng.randrange(60, days(0.9)))
        elif status == "paused":
            created = rng.randrange(lo, now - days(15))
        else:
            created = lo + int((max(now - DAY, lo + 1) - lo) * rng.random() ** 2)
        sub_id = self.ids.new("subscription")
        trial_end = created + days(14) if trial else None
        anchor = trial_end or created
        items = self._items(sub_id, currency, created)
        monthly = is_monthly(self.prices[items[0]["price"]])
        self.long.widen(items, currency, created, monthly=monthly)
        rec: Record = {
            "id": sub_id,
            "created": created,
            "customer": cust["id"],
            "currency": currency,
            "status": status,
            "start_date": created,
            "billing_cycle_anchor": anchor,
            "items": items,
        }
        if trial:
            rec["trial_start"] = created
            rec["trial_end"] = trial_end
        ended = self._ending(rec, status, created, anchor)
        if rng.random() < 0.1:
            coupon = rng.choice(self.cat.coupons_for[currency])
            rec["discounts"] = [
                self._discount(created, currency, customer=cust["id"], subscription=sub_id,
                               coupon=coupon)
            ]
        if rng.random() < 0.15:
            rec["metadata"] = {"plan": self.cat.specs[items[0]["price"]].product,
                               "source": rng.choice(("webinar", "ads", "referral"))}
        if rng.random() < 0.03:
            rec["collection_method"] = "send_invoice"
            rec["days_until_due"] = 30
        recurring = self.prices[items[0]["price"]]["recurring"]
        interval, count = recurring["interval"], recurring["interval_count"]
        at = min(ended or now, now) - 1
        if at >= anchor:
            n = max(periods_between(anchor, interval, count, at) - 1, 0)
            period = (add_interval(anchor, interval, count, n),
                      add_interval(anchor, interval, count, n + 1))
        else:
            period = (created, anchor)
        for item in items:
            item["current_period_start"], item["current_period_end"] = period
        if rec.get("cancel_at_period_end"):
            rec["cancel_at"] = period[1]  # Stripe sets both since 2025
        self.acc.subscriptions.append(rec)
        return self._bill(cust, rec, anchor, ended)

    def _items(self, sub_id: str, currency: str, created: int) -> list[Record]:
        rng = self.rng
        price_id = self.pick_price[currency](rng)
        ids = [price_id]
        if rng.random() < 0.1:
            interval = self.prices[price_id]["recurring"]
            addons = [
                p for p, _ in self.cat.by_currency[currency]
                if p != price_id
                and self.prices[p]["recurring"]["interval"] == interval["interval"]
                and self.prices[p]["recurring"]["interval_count"] == interval["interval_count"]
            ]
            if addons:
                ids.append(rng.choice(addons))
        items = []
        for pid in ids:
            spec = self.cat.specs[pid]
            item: Record = {"id": self.ids.new("subscription_item"), "created": created,
                            "price": pid, "metadata": {}}
            if spec.seats:
                item["quantity"] = rng.randint(2, 40) if spec.tiers else rng.randint(2, 25)
            elif spec.transform is not None:
                item["quantity"] = rng.randrange(500, 20_000, 250)
            elif rng.random() < 0.06:
                item["quantity"] = rng.randint(2, 5)
            else:
                item["quantity"] = 1
            if rng.random() < 0.04:
                item["discounts"] = [
                    self._discount(created, currency, subscription=sub_id,
                                   subscription_item=item["id"])
                ]
            items.append(item)
        return items

    def _ending(self, rec: Record, status: str, created: int, anchor: int) -> int | None:
        """Set cancellation fields; returns ``ended_at`` for ended subscriptions."""
        rng, now = self.rng, self.now
        if status == "incomplete_expired":
            ended = min(created + days(23 / 24), now - 1)
            rec["ended_at"] = ended
            return ended
        if status == "canceled":
            ended = min(created + max(int((now - created) * rng.uniform(0.05, 1.0)), 60), now - 1)
            scheduled = rng.random() < 0.4
            canceled_at = max(created, ended - rng.randrange(1, days(20))) if scheduled else ended
            rec.update(
                ended_at=ended,
                canceled_at=canceled_at,
                cancellation_details={
                    "comment": None,
                    "feedback": rng.choice(_FEEDBACK),
                    "reason": "payment_failed" if rng.random() < 0.2 else "cancellation_requested",
                },
            )
            if scheduled:
                rec["cancel_at"] = ended
            return ended
        if status in ("active", "trialing", "past_due"):
            roll = rng.random()
            if roll < 0.07:
                rec["cancel_at_period_end"] = True
                rec["canceled_at"] = now - rng.randrange(DAY, days(10))
            elif roll < 0.10:
                rec["cancel_at"] = now + rng.randrange(days(5), days(200))
        return None

    def _discount(
        self,
        start: int,
        currency: str,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        subscription_item: str | None = None,
        coupon: str | None = None,
    ) -> str:
        coupon_id = coupon or self.rng.choice(self.cat.coupons_for[currency])
        spec = self.coupons[coupon_id]
        end = None
        if spec["duration"] == "repeating":
            end = add_interval(start, "month", spec["duration_in_months"])
        did = self.ids.new("discount")
        self.discounts[did] = {
                "id": did,
                "customer": customer,
                "start": start,
                "end": end,
                "subscription": subscription,
                "subscription_item": subscription_item,
                "source": {"coupon": coupon_id, "type": "coupon"},
            }
        self.acc.discounts.append(self.discounts[did])
        return did

    # ---- money --------------------------------------------------------------------

    def _coupon_at(self, discount_id: str | None, t: int, first: bool) -> Record | None:
        if discount_id is None:
            return None
        disc = self._discount_rec(discount_id)
        coupon = self.coupons[disc["source"]["coupon"]]
        if t < disc["start"] or (disc["end"] is not None and t >= disc["end"]):
            return None
        if coupon["duration"] == "once" and not first:
            return None
        return coupon

    def _discount_rec(self, discount_id: str) -> Record:
        return self.discounts[discount_id]

    def _amount(self, cust: Record, sub: Record, t: int, first: bool) -> tuple[int, list[int]]:
        """The invoice total at ``t`` and its undiscounted line amounts."""
        rng = self.rng
        lines, total = [], 0
        for item in sub["items"]:
            price = self.prices[item["price"]]
            metered = self.cat.specs[item["price"]].usage_type == "metered"
            usage = rng.randrange(0, 40_000) if metered else 0
            amount = period_amount(price, item["quantity"], usage)
            lines.append(amount)
            for did in item.get("discounts", ()):
                coupon = self._coupon_at(did, t, first)
                if coupon is not None:
                    amount = discounted(amount, coupon)
            total += amount
        sub_discounts = sub.get("discounts") or [cust.get("discount")]
        for did in sub_discounts:
            coupon = self._coupon_at(did, t, first)
            if coupon is not None:
                total = discounted(total, coupon)
        return total, lines

    def _bill(self, cust: Record, sub: Record, anchor: int, ended: int | None) -> bool:
        """Charges and invoices for a subscription's periods; True if any succeeded."""
        rng, status = self.rng, sub["status"]
        if status in ("incomplete", "incomplete_expired"):
            if rng.random() < 0.6:
                amount, _ = self._amount(cust, sub, sub["created"], True)
                self._charge(cust, sub["currency"], sub["created"] + 5, max(amount, 50), "failed",
                             _FIRST_CHARGE)
            return False
        if status in ("trialing", "paused"):
            return False
        recurring = self.prices[sub["items"][0]["price"]]["recurring"]
        interval, count = recurring["interval"], recurring["interval_count"]
        until = min(ended or self.now, self.now) - 1
        periods = periods_between(anchor, interval, count, until)
        n = min(periods, rng.randint(max(self.max_charges // 3, 1), self.max_charges))
        failing = {"past_due": rng.randint(1, 2), "unpaid": 3}.get(status, 0)
        paid_charges: list[tuple[Record, list[int], int]] = []
        last_failed: tuple[Record, list[int], int] | None = None
        for k in range(periods - n, periods):
            start = add_interval(anchor, interval, count, k)
            t = start + rng.randrange(0, 3600)
            amount, lines = self._amount(cust, sub, t, k == 0)
            if amount == 0:
                continue
            desc = _FIRST_CHARGE if k == 0 else _NEXT_CHARGE
            if k >= periods - failing:
                charge = self._charge(cust, sub["currency"], t, amount, "failed", desc)
                last_failed = (charge, lines, start)
                continue
            if rng.random() < 0.02:
                self._charge(cust, sub["currency"], t, amount, "failed", desc)
                t += days(3)
            charge = self._charge(cust, sub["currency"], t, amount, "succeeded", desc)
            if charge.get("captured", True):
                paid_charges.append((charge, lines, start))
        latest = None
        if paid_charges:
            if len(paid_charges) > 1 and rng.random() < 0.3:
                self._invoice(cust, sub, *paid_charges[0], paid=True)
            latest = self._invoice(cust, sub, *paid_charges[-1], paid=True)
        if last_failed is not None:
            latest = self._invoice(cust, sub, *last_failed, paid=False)
        sub["latest_invoice"] = latest
        return bool(paid_charges)

    def _charge(self, cust: Record, currency: str, t: int, amount: int, status: str,
                description: str) -> Record:
        rng = self.rng
        rec: Record = {
            "id": self.ids.new("charge"),
            "created": min(t, self.now - 1),
            "customer": cust["id"],
            "amount": amount,
            "currency": currency,
            "status": status,
            "description": description,
        }
        if status == "succeeded":
            roll = rng.random()
            if roll < 0.005:
                rec["captured"] = False
            elif roll < 0.035:
                self._refund(rec, rng.randint(1, max(amount - 1, 1)), t)
            elif roll < 0.05:
                self._refund(rec, amount, t)
        self.acc.charges.append(rec)
        return rec

    def _refund(self, charge: Record, amount: int, t: int) -> None:
        charge["amount_refunded"] = amount
        self.acc.refunds.append(
            {
                "id": self.ids.new("refund"),
                "created": min(t + self.rng.randrange(DAY, days(20)), self.now - 1),
                "amount": amount,
                "charge": charge["id"],
                "currency": charge["currency"],
                "customer": charge["customer"],
                "reason": "requested_by_customer",
            }
        )

    def _one_off_charge(self, cust: Record, currency: str) -> None:
        rng = self.rng
        t = rng.randrange(cust["created"], self.now)
        amount = 9900 if currency == "usd" else {"eur": 9000, "gbp": 8000, "jpy": 12000}[currency]
        if rng.random() < 0.5:
            amount = rng.randrange(500, 50_000, 100)
        status = "failed" if rng.random() < 0.1 else "succeeded"
        self._charge(cust, currency, t, amount, status, "Onboarding package")

    def _invoice(self, cust: Record, sub: Record, charge: Record, amounts: list[int], start: int,
                 *, paid: bool) -> str:
        inv_id = self.ids.new("invoice")
        recurring = self.prices[sub["items"][0]["price"]]["recurring"]
        end = add_interval(start, recurring["interval"], recurring["interval_count"])
        lines = []
        for item, amount in zip(sub["items"], amounts, strict=True):
            lines.append(
                {
                    "id": self.ids.new("line_item"),
                    "amount": amount,
                    "description": f"{item['quantity']} x {self.cat.specs[item['price']].key}",
                    "period": {"end": end, "start": start},
                    "quantity": item["quantity"],
                    "subscription": sub["id"],
                    "price": item["price"],
                    "product": self.prices[item["price"]]["product"],
                    "subscription_item": item["id"],
                }
            )
        if paid and not charge.get("amount_refunded"):
            # Extra lines are billed too: the invoice and its charge grow together.
            charge["amount"] += self.long.lengthen(lines, sub, start, end)
        total = charge["amount"]
        rec: Record = {
            "id": inv_id,
            "created": charge["created"],
            "customer": cust["id"],
            "customer_email": cust.get("email"),
            "customer_name": cust.get("name"),
            "currency": sub["currency"],
            "amount_due": total,
            "amount_paid": total if paid else 0,
            "attempted": True,
            "attempt_count": 1 if paid else 3,
            "billing_reason": (
                "subscription_create" if charge["description"] == _FIRST_CHARGE
                else "subscription_cycle"
            ),
            "number": f"{cust['invoice_prefix']}-{len(self.acc.invoices) % 10000:04d}",
            "period_start": start,
            "period_end": end,
            "status": "paid" if paid else "open",
            "lines": lines,
        }
        subtotal = sum(line["amount"] for line in lines)
        if subtotal != total:
            rec["subtotal"] = rec["subtotal_excluding_tax"] = subtotal
        self.acc.invoices.append(rec)
        return inv_id
