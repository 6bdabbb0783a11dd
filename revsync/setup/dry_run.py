"""What a sync with these options would do, counted from Stripe objects as they come.

Pure: the caller lists the objects and says which emails are subscribers'
(`account_pages`, page by page); nothing here writes. The counts answer the setup
page's questions before the first sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
    """The report of customers all at hand (a whole account's: `account_pages` counts
    one page at a time)."""
    matched: set[str] = set()

    def first_match(email: str) -> bool:
        new = email not in matched
        matched.add(email)
        return new

    tally = Tally(policy, catalogue, first_match)
    tally.add(facts, subscriber_emails.__contains__)
    return tally.report


class Tally:
    """The report, counted as customers come. `first_match(email)` is true the first
    time an email matches, so a subscriber reached by several customers counts once."""

    def __init__(self, policy: RevenuePolicy, catalogue: Catalogue,
                 first_match: Callable[[str], bool]) -> None:
        self.policy, self.catalogue, self.first_match = policy, catalogue, first_match
        self.report = DryRunReport(per_product={p: 0 for p in sorted(policy.products)})

    def add(self, facts: Iterable[CustomerFacts], is_subscriber: Callable[[str], bool]) -> None:
        """Count these customers; `is_subscriber(normalized email)` says whether one matches."""
        report, policy = self.report, self.policy
        for fact in facts:
            if fact.customer.get("deleted") is True:
                continue
            report.customers += 1
            reason = eligibility(fact, policy, self.catalogue)
            if not has_paid(fact) and any(s.get("status") == "trialing"
                                          for s in fact.subscriptions):
                report.no_payment_trials += 1
            if reason == ABANDONED_CHECKOUT:
                report.abandoned_checkouts += 1
            if reason != ELIGIBLE:
                continue
            report.would_sync += 1
            for product in customer_products([fact], self.catalogue) & policy.products:
                report.per_product[product] += 1
            email = normalize_email(fact.customer.get("email"))
            if email is not None and is_subscriber(email):
                report.matching_subscribers += self.first_match(email)
            else:
                report.unmatched += 1
