"""All Stripe customers sharing one normalised email -> one subscriber's attributes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from revsync.revenue.money import round_cents

from .eligibility import ELIGIBLE, eligibility
from .ltv import customer_ltv_exact
from .metadata import carried_metadata
from .model import Catalogue, CustomerFacts, Derived, RevenuePolicy, Tally
from .mrr import customer_mrr_exact
from .read import get_str
from .tags import customer_tags


def normalize_email(email: str | None) -> str | None:
    """Trim, then Unicode case-fold (so "Straße" matches "STRASSE"); blank -> None."""
    if not isinstance(email, str):
        return None
    normalized = email.strip().casefold()
    return normalized or None


def subscriber_revenue_exact(
    eligible: Sequence[CustomerFacts],
    catalogue: Catalogue,
    policy: RevenuePolicy,
    now: int,
    anomalies: Tally | None = None,
    unconverted: Tally | None = None,
) -> tuple[Fraction, Fraction]:
    """Exact (MRR, LTV) in the reporting currency: sums over the given customers, unrounded."""
    anomalies = Tally() if anomalies is None else anomalies
    unconverted = Tally() if unconverted is None else unconverted
    mrr = Fraction(0)
    ltv = Fraction(0)
    for facts in eligible:
        mrr += customer_mrr_exact(facts, catalogue, policy, now, anomalies, unconverted)
        ltv += customer_ltv_exact(facts, policy, anomalies, unconverted)
    return mrr, ltv


def derive_subscriber(
    customers: Sequence[CustomerFacts], catalogue: Catalogue, policy: RevenuePolicy, now: int
) -> Derived:
    """The subscriber's MRR, LTV, tags and metadata from its eligible Stripe customers.

    MRR and LTV are exact sums over eligible customers, converted to the reporting
    currency and rounded to cents once. No eligible customer -> ``eligible=False``,
    ``mrr``/``ltv`` None, no tags and no metadata (the caller clears them).
    ``now`` is unix seconds (for ``repeating`` discounts' ``end``).
    """
    reasons = [eligibility(f, policy, catalogue) for f in customers]
    eligible = [f for f, reason in zip(customers, reasons, strict=True) if reason == ELIGIBLE]
    skipped = dict(sorted(Counter(r for r in reasons if r != ELIGIBLE).items()))
    if not eligible:
        return Derived(
            eligible=False,
            mrr=None,
            ltv=None,
            tags=frozenset(),
            metadata={},
            eligible_customer_ids=(),
            unconverted={},
            skipped=skipped,
        )
    anomalies = Tally()
    unconverted = Tally()
    mrr, ltv = subscriber_revenue_exact(eligible, catalogue, policy, now, anomalies, unconverted)
    tags: frozenset[str] = frozenset()
    for facts in eligible:
        tags |= customer_tags(facts, catalogue)
    ids = tuple(sorted(get_str(f.customer, "id") or "" for f in eligible))
    return Derived(
        eligible=True,
        mrr=round_cents(max(mrr, Fraction(0))),
        ltv=round_cents(ltv),
        tags=tags,
        metadata=carried_metadata(eligible, policy.metadata_keys),
        eligible_customer_ids=ids,
        unconverted=dict(sorted(unconverted.items())),
        anomalies=dict(sorted(anomalies.items())),
        skipped=skipped,
    )
