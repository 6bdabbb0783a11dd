"""The generated account's subscriptions and invoices longer than Stripe embeds.

Stripe embeds 10 entries of ``subscription.items`` and ``invoice.lines``; a sync that
stops there undercounts. So a small share of generated subscriptions carry 11-20 items,
each a distinct monthly add-on price (so a missing item shows in MRR), and a small share
of paid invoices carry 11-15 lines: proration pairs (credit for unused time, charge for
the remaining time at the new quantity) and one-off credit-pack lines.

Both draw from their own random stream and ids, so how often they occur does not depend
on (or change) the rest of the account's mix: customers, statuses and volumes stay as
they were. Invoices of wide subscriptions still take one line id per item from the
account's id stream, and longer invoices mean larger charges, so ids and refund amounts
drawn after the first long case differ from an account generated without them.
"""

from __future__ import annotations

import random
from typing import Any, Final

from .catalogue import PriceSpec
from .ids import IdFactory
from .objects import Record

#: Share of monthly subscriptions that get 11-20 items.
WIDE_SUBSCRIPTION_RATE: Final = 0.02
WIDE_ITEMS: Final = (11, 20)
#: Share of paid invoices (with an unrefunded charge) that get 11-15 lines.
LONG_INVOICE_RATE: Final = 0.01
LONG_LINES: Final = (11, 15)

ADDON_PRODUCT: Final = ("addons", "Add-ons")
#: Per currency, the step between add-on prices (minor units): add-on n costs
#: ``step * n + 7 * n``, so every add-on price has its own amount.
_ADDON_STEP: Final = {"usd": 300, "eur": 280, "gbp": 250, "jpy": 400}
_CREDIT_PACK: Final = {"usd": 2500, "eur": 2300, "gbp": 2000, "jpy": 3000}
_CREATED: Final = 1_700_000_000


class LongLists:
    """The add-on catalogue and the two long-list scenarios of one generated account."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"long-lists-{seed}")
        self.ids = IdFactory(f"account-{seed}-long-lists")
        self.product_id = self.ids.new("product")
        self.product: Record = {
            "id": self.product_id, "created": _CREATED, "updated": _CREATED,
            "name": ADDON_PRODUCT[1], "active": True, "metadata": {"tier": ADDON_PRODUCT[0]},
        }
        self.prices: list[Record] = []
        self.specs: dict[str, PriceSpec] = {}
        #: Monthly add-on price ids, and the one-off credit pack, per currency.
        self.addons: dict[str, list[str]] = {}
        self.credit_pack: dict[str, str] = {}
        for currency, step in _ADDON_STEP.items():
            for n in range(1, WIDE_ITEMS[1] + 1):
                spec = PriceSpec(f"addon_{n:02d}_monthly_{currency}", ADDON_PRODUCT[0], currency,
                                 step * n + 7 * n, weight=0)
                self.addons.setdefault(currency, []).append(self._add(spec))
            pack = PriceSpec(f"credit_pack_once_{currency}", ADDON_PRODUCT[0], currency,
                             _CREDIT_PACK[currency], None, weight=0)
            self.credit_pack[currency] = self._add(pack)
        self.product["default_price"] = self.prices[0]["id"]

    def _add(self, spec: PriceSpec) -> str:
        price_id = self.ids.new("price")
        self.prices.append(spec.record(price_id, self.product_id))
        self.specs[price_id] = spec
        return price_id

    # ---- subscriptions with more than 10 items --------------------------------------

    def widen(self, items: list[Record], currency: str, created: int, *, monthly: bool) -> None:
        """Maybe add distinct add-on items until the subscription has 11-20 of them.

        Only monthly subscriptions: Stripe requires every item of a subscription to bill
        on the same interval, and the add-ons are monthly.
        """
        if not monthly or self.rng.random() >= WIDE_SUBSCRIPTION_RATE:
            return
        want = self.rng.randint(*WIDE_ITEMS) - len(items)
        for price_id in self.rng.sample(self.addons[currency], want):
            items.append({"id": self.ids.new("subscription_item"), "created": created,
                          "price": price_id, "metadata": {},
                          "quantity": self.rng.choice((1, 1, 1, 2, 3))})

    # ---- invoices with more than 10 lines -------------------------------------------

    def lengthen(self, lines: list[Record], sub: Record, start: int, end: int) -> int:
        """Maybe add proration pairs and credit-pack lines until the invoice has 11-15
        lines; returns what they add to the invoice's total (0 if none were added)."""
        if len(lines) > LONG_LINES[0] - 1 or self.rng.random() >= LONG_INVOICE_RATE:
            return 0
        want = self.rng.randint(*LONG_LINES)
        added = 0
        while len(lines) < want:
            if want - len(lines) >= 2 and self.rng.random() < 0.6:
                pair = self._proration_pair(lines[0], sub, start, end)
                lines.extend(pair)
                added += sum(line["amount"] for line in pair)
            else:
                line = self._credit_pack_line(sub, start)
                lines.append(line)
                added += line["amount"]
        return added

    def _proration_pair(self, base: Record, sub: Record, start: int,
                        end: int) -> list[Record]:
        """A mid-period quantity change of the first item: credit for the unused time at
        the old quantity, charge for the remaining time at the new one."""
        at = start + self.rng.randrange(max(end - start, 1))
        share = (end - at) / max(end - start, 1)
        quantity = base["quantity"]
        unit = max(base["amount"] // max(quantity, 1), 1)
        credit = -max(round(unit * quantity * share), 1)
        charge = max(round(unit * (quantity + 1) * share), 1)
        name = base["description"].split(" x ", 1)[-1]
        return [
            self._line(sub, base, credit, quantity, f"Unused time on {quantity} x {name}",
                       (at, end)),
            self._line(sub, base, charge, quantity + 1,
                       f"Remaining time on {quantity + 1} x {name}", (at, end)),
        ]

    def _line(self, sub: Record, base: Record, amount: int, quantity: int, description: str,
              period: tuple[int, int]) -> Record:
        return {
            "id": self.ids.new("line_item"), "amount": amount, "description": description,
            "period": {"end": period[1], "start": period[0]}, "quantity": quantity,
            "subscription": sub["id"], "price": base["price"], "product": base["product"],
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": self.ids.new("invoice_item"),
                    "proration": True,
                    "proration_details": {"credited_items": None},
                    "subscription": sub["id"],
                    "subscription_item": base["subscription_item"],
                },
                "type": "subscription_item_details",
            },
        }

    def _credit_pack_line(self, sub: Record, start: int) -> Record:
        """A one-off invoice item added to the subscription's invoice."""
        currency = sub["currency"]
        quantity = self.rng.randint(1, 3)
        price_id = self.credit_pack[currency]
        return {
            "id": self.ids.new("line_item"), "amount": _CREDIT_PACK[currency] * quantity,
            "description": f"{quantity} x Credit pack", "period": {"end": start, "start": start},
            "quantity": quantity, "subscription": None, "price": price_id,
            "product": self.product_id,
            "parent": {
                "invoice_item_details": {
                    "invoice_item": self.ids.new("invoice_item"),
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": sub["id"],
                },
                "subscription_item_details": None,
                "type": "invoice_item_details",
            },
        }


def is_monthly(price: Record) -> bool:
    """Whether a price bills every month (the add-ons' interval)."""
    recurring: dict[str, Any] = price.get("recurring") or {}
    return recurring.get("interval") == "month" and recurring.get("interval_count") == 1
