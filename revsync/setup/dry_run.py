"""What a sync with these options would do, computed from Stripe objects in memory.

Pure: the caller lists the objects (and reads the subscriber emails); nothing here
writes. The counts answer the setup page's questions before the first sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from revsync.events.watched_products import customer_products
from revsync.revenue import Catalogue, CustomerFacts, RevenuePolicy, eligibility, normalize_email
from revsync.revenue.eligibility import ABANDONED_CHECKOUT, ELIGIBLE, has_paid


@dataclass
class DryRunReport:
    customers: int = 0  # live Stripe customers read
    would_sync: int = 0  # eligible under the options
    abandoned_checkouts: int = 0  # never paid, every subscription incomplete (or none)
    no_payment_trials: int = 0  # never paid, trialing: synced only with the toggle on
    matching_subscribers: int = 0  # distinct subscribers the eligible customers reach
    unmatched: int = 0  # eligible customers whose email matches no subscriber
    per_product: dict[str, int] = field(default_factory=dict)  # eligible holders of each


def dry_run(
    facts: Iterable[CustomerFacts],
    policy: RevenuePolicy,
    catalogue: Catalogue,
    subscriber_emails: set[str],
) -> DryRunReport:
    report = DryRunReport(per_product={p: 0 for p in sorted(policy.products)})
    matched: set[str] = set()
    for fact in facts:
        if fact.customer.get("deleted") is True:
            continue
        report.customers += 1
        reason = eligibility(fact, policy, catalogue)
        if not has_paid(fact) and any(s.get("status") == "trialing" for s in fact.subscriptions):
            report.no_payment_trials += 1
        if reason == ABANDONED_CHECKOUT:
            report.abandoned_checkouts += 1
        if reason != ELIGIBLE:
            continue
        report.would_sync += 1
        for product in customer_products([fact], catalogue) & policy.products:
            report.per_product[product] += 1
        email = normalize_email(fact.customer.get("email"))
        if email is not None and email in subscriber_emails:
            matched.add(email)
        else:
            report.unmatched += 1
    report.matching_subscribers = len(matched)
    return report
