"""Expected subscriber values computed straight from the fake's state.

It reads full API objects from the fake (not the mirror), so a comparison with what
the sync wrote checks listing, paging, projection and derivation together.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from fake_stripe import FakeStripe
from revsync.revenue import Catalogue, CustomerFacts, RevenuePolicy, derive_subscriber
from revsync.revenue import normalize_email as norm

SUB_EXPAND = ["discounts", "items.data.discounts"]


def _all(fake: FakeStripe, kind: str, expand: list[str] | None = None) -> list[dict[str, Any]]:
    return [fake.retrieve(kind, r["id"], expand=expand or []) for r in fake.iter_records(kind)]


def expected_state(
    fake: FakeStripe, emails: list[str], policy: RevenuePolicy, now: int
) -> dict[str, tuple[Decimal | None, Decimal | None, list[str]]]:
    catalogue = Catalogue(
        prices={p["id"]: p for p in _all(fake, "price", ["tiers"])},
        coupons={c["id"]: c for c in _all(fake, "coupon")},
    )
    subs, charges, invoices = defaultdict(list), defaultdict(list), defaultdict(list)
    for s in _all(fake, "subscription", SUB_EXPAND):
        subs[s["customer"]].append(s)
    for c in _all(fake, "charge"):
        charges[c["customer"]].append(c)
    for i in _all(fake, "invoice"):
        if i.get("status") == "paid":
            invoices[i["customer"]].append(i)
    by_email: dict[str, list[CustomerFacts]] = defaultdict(list)
    for c in _all(fake, "customer"):
        key = norm(c.get("email"))
        if key:
            by_email[key].append(CustomerFacts(c, subs[c["id"]], charges[c["id"]],
                                               invoices[c["id"]]))
    result = {}
    for email in emails:
        key = norm(email)
        assert key is not None
        derived = derive_subscriber(by_email.get(key, []), catalogue, policy, now)
        result[key] = (derived.mrr, derived.ltv, sorted(derived.tags))
    return result
