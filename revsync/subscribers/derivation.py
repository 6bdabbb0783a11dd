"""Derive subscribers' Stripe-managed attributes from the mirror, a batch at a time.

Reads mirror rows, calls the pure rules in `revsync.revenue`, and writes only what
changed, so deriving twice is a no-op. Subscriber rows are locked (PostgreSQL) while
their old and new values are compared, so one writer observes each transition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, exists, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from revsync.revenue import (
    Catalogue,
    CustomerFacts,
    Derived,
    RevenuePolicy,
    derive_subscriber,
    eligibility,
)
from revsync.store.models import (
    CustomerLink,
    StripeCharge,
    StripeCoupon,
    StripeCustomer,
    StripeInvoice,
    StripePrice,
    StripeSubscription,
    Subscriber,
    SubscriberTag,
    SubscriberTransition,
    utcnow,
)
from revsync.sync.types import DeriveCounts

STRIPE_SOURCE = "stripe"


@dataclass(frozen=True)
class Transition:
    """What one derivation changed on one subscriber (input for automations)."""

    subscriber_id: int
    tags_added: frozenset[str]
    tags_removed: frozenset[str]
    mrr_before: Decimal | None = None
    mrr_after: Decimal | None = None
    ltv_before: Decimal | None = None
    ltv_after: Decimal | None = None


def load_catalogue(session: Session, workspace_id: int) -> Catalogue:
    prices = session.exec(select(StripePrice).where(StripePrice.workspace_id == workspace_id))
    coupons = session.exec(select(StripeCoupon).where(StripeCoupon.workspace_id == workspace_id))
    return Catalogue(
        prices={row.id: row.data for row in prices},
        coupons={row.id: row.data for row in coupons},
    )


def _by_customer(rows: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.customer].append(row.data)
    return grouped


def load_facts(
    session: Session, workspace_id: int, emails: Sequence[str], with_invoices: bool
) -> dict[str, list[CustomerFacts]]:
    """Every live Stripe customer for these normalised emails, with its objects."""
    customers = session.exec(
        select(StripeCustomer).where(
            StripeCustomer.workspace_id == workspace_id,
            col(StripeCustomer.email_norm).in_(emails),
            ~col(StripeCustomer.deleted),
        )
    ).all()
    facts: dict[str, list[CustomerFacts]] = defaultdict(list)
    for customer, fact in zip(
        customers, _with_objects(session, workspace_id, customers, with_invoices), strict=True
    ):
        assert customer.email_norm is not None
        facts[customer.email_norm].append(fact)
    return facts


def load_customer_facts(
    session: Session, workspace_id: int, customer_ids: Sequence[str]
) -> list[CustomerFacts]:
    """These live customers with their objects (invoices included)."""
    customers = session.exec(
        select(StripeCustomer).where(
            StripeCustomer.workspace_id == workspace_id,
            col(StripeCustomer.id).in_(customer_ids),
            ~col(StripeCustomer.deleted),
        )
    ).all()
    return _with_objects(session, workspace_id, customers, with_invoices=True)


def _with_objects(
    session: Session,
    workspace_id: int,
    customers: Sequence[StripeCustomer],
    with_invoices: bool,
) -> list[CustomerFacts]:
    ids = [c.id for c in customers]

    def children(model: Any) -> dict[str, list[dict[str, Any]]]:
        if not ids:
            return {}
        query = select(model).where(model.workspace_id == workspace_id, model.customer.in_(ids))
        return _by_customer(session.exec(query).all())

    subscriptions = children(StripeSubscription)
    charges = children(StripeCharge)
    invoices = children(StripeInvoice) if with_invoices else {}
    return [
        CustomerFacts(
            customer=customer.data,
            subscriptions=subscriptions.get(customer.id, []),
            charges=charges.get(customer.id, []),
            paid_invoices=invoices.get(customer.id, []),
        )
        for customer in customers
    ]


def _stripe_tags(session: Session, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
    rows = session.exec(
        select(SubscriberTag).where(
            col(SubscriberTag.subscriber_id).in_(subscriber_ids),
            SubscriberTag.source == STRIPE_SOURCE,
        )
    ).all()
    tags: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        tags[row.subscriber_id].add(row.tag)
    return tags


def apply(
    session: Session,
    subscriber: Subscriber,
    derived: Derived,
    old_tags: set[str],
    displaced: set[int] | None = None,
) -> Transition | None:
    """Write the derived values if they differ; return the transition, or None.

    `displaced` collects the subscribers that held a customer this one now takes over
    (an email change): they must be derived again, or they keep its revenue.
    """
    assert subscriber.id is not None
    customer_ids = sorted(derived.eligible_customer_ids)
    same = (
        subscriber.mrr == derived.mrr
        and subscriber.ltv == derived.ltv
        and subscriber.stripe_metadata == derived.metadata
        and subscriber.stripe_customer_ids == customer_ids
        and old_tags == set(derived.tags)
    )
    if same:
        return None
    transition = Transition(
        subscriber.id,
        frozenset(set(derived.tags) - old_tags),
        frozenset(old_tags - set(derived.tags)),
        mrr_before=subscriber.mrr,
        mrr_after=derived.mrr,
        ltv_before=subscriber.ltv,
        ltv_after=derived.ltv,
    )
    taken_from = _relink(session, subscriber, subscriber.stripe_customer_ids, customer_ids)
    if displaced is not None:
        displaced |= taken_from
    subscriber.mrr, subscriber.ltv = derived.mrr, derived.ltv
    subscriber.stripe_metadata = dict(derived.metadata)
    subscriber.stripe_customer_ids = customer_ids
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    added, removed = transition.tags_added, transition.tags_removed
    if removed:
        session.execute(
            delete(SubscriberTag).where(
                and_(
                    SubscriberTag.subscriber_id == subscriber.id,  # type: ignore[arg-type]
                    SubscriberTag.source == STRIPE_SOURCE,  # type: ignore[arg-type]
                    col(SubscriberTag.tag).in_(removed),
                )
            )
        )
    for tag in sorted(added):
        session.add(
            SubscriberTag(
                subscriber_id=subscriber.id,
                tag=tag,
                source=STRIPE_SOURCE,
                workspace_id=subscriber.workspace_id,
            )
        )
    return transition


def _relink(
    session: Session, subscriber: Subscriber, old: list[str], new: list[str]
) -> set[int]:
    """Keep `stripe_customer_link` equal to the customers this subscriber holds; return
    the other subscribers the newly held customers were linked to.

    Only this subscriber's own links are dropped: a customer that moved to another
    subscriber (email change) may already be linked there.
    """
    gone, came = set(old) - set(new), sorted(set(new) - set(old))
    if gone:
        session.execute(
            delete(CustomerLink).where(
                and_(
                    CustomerLink.workspace_id == subscriber.workspace_id,  # type: ignore[arg-type]
                    CustomerLink.subscriber_id == subscriber.id,  # type: ignore[arg-type]
                    col(CustomerLink.customer_id).in_(gone),
                )
            )
        )
    if not came:
        return set()
    previous = set(
        session.exec(
            select(CustomerLink.subscriber_id).where(
                CustomerLink.workspace_id == subscriber.workspace_id,
                col(CustomerLink.customer_id).in_(came),
                CustomerLink.subscriber_id != subscriber.id,
            )
        ).all()
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CustomerLink.__table__)  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=["workspace_id", "customer_id"],
        set_={"subscriber_id": statement.excluded.subscriber_id},
    )
    session.execute(
        statement,
        [
            {"workspace_id": subscriber.workspace_id, "customer_id": c,
             "subscriber_id": subscriber.id}
            for c in came
        ],
    )
    return previous


def derive_batch(
    session: Session,
    workspace_id: int,
    policy: RevenuePolicy,
    catalogue: Catalogue,
    after_id: int,
    batch_size: int,
    now: int,
    transitions_source: str | None = None,
) -> tuple[int, bool, DeriveCounts, list[Transition]]:
    """Derive the next `batch_size` subscribers after `after_id`, in one transaction.

    With `transitions_source`, the transitions are recorded in the same transaction.
    """
    subscribers = session.exec(
        select(Subscriber)
        .where(Subscriber.workspace_id == workspace_id, col(Subscriber.id) > after_id)
        .order_by(col(Subscriber.id))
        .limit(batch_size)
        .with_for_update()
    ).all()
    counts, transitions = derive_locked(session, workspace_id, policy, catalogue, subscribers, now)
    if transitions_source is not None:
        record_transitions(session, workspace_id, transitions_source, transitions)
    session.commit()
    if not subscribers:
        return after_id, True, counts, []
    last = subscribers[-1].id
    assert last is not None
    return last, len(subscribers) < batch_size, counts, transitions


def record_transitions(
    session: Session, workspace_id: int, source_id: str, transitions: Sequence[Transition]
) -> None:
    """Store what changed, for the automations; the caller commits with the changes."""
    for transition in transitions:
        session.add(
            SubscriberTransition(
                workspace_id=workspace_id,
                subscriber_id=transition.subscriber_id,
                source_id=source_id,
                tags_added=sorted(transition.tags_added),
                tags_removed=sorted(transition.tags_removed),
                mrr_before=transition.mrr_before,
                mrr_after=transition.mrr_after,
                ltv_before=transition.ltv_before,
                ltv_after=transition.ltv_after,
            )
        )


def derive_locked(
    session: Session,
    workspace_id: int,
    policy: RevenuePolicy,
    catalogue: Catalogue,
    subscribers: Sequence[Subscriber],
    now: int,
    displaced: set[int] | None = None,
) -> tuple[DeriveCounts, list[Transition]]:
    """Re-derive subscribers the caller has locked; the caller commits."""
    counts = DeriveCounts()
    if not subscribers:
        return counts, []
    ids = [s.id for s in subscribers if s.id is not None]
    facts = load_facts(
        session, workspace_id, [s.email_norm for s in subscribers], bool(policy.products)
    )
    old_tags = _stripe_tags(session, ids)
    transitions: list[Transition] = []
    for subscriber in subscribers:
        assert subscriber.id is not None
        mine = facts.get(subscriber.email_norm, [])
        had = set(old_tags.get(subscriber.id, set()))
        derived = derive_subscriber(mine, catalogue, policy, now)
        _count(counts, mine, derived, policy, catalogue)
        transition = apply(session, subscriber, derived, had, displaced)
        if transition is not None:
            counts.subscribers_changed += 1
            transitions.append(transition)
            if not derived.eligible:
                counts.subscribers_cleared += 1
    return counts, transitions


def _count(
    counts: DeriveCounts,
    facts: Sequence[CustomerFacts],
    derived: Derived,
    policy: RevenuePolicy,
    catalogue: Catalogue,
) -> None:
    counts.subscribers_seen += 1
    counts.customers_matched += len(facts)
    for fact in facts:
        reason = eligibility(fact, policy, catalogue)
        if reason == "eligible":
            counts.customers_eligible += 1
        else:
            counts.skipped[reason] = counts.skipped.get(reason, 0) + 1
    for currency, n in derived.unconverted.items():
        counts.unconverted[currency] = counts.unconverted.get(currency, 0) + n
    if not derived.eligible:
        return
    counts.subscribers_matched += 1
    counts.mrr_total += derived.mrr or 0
    counts.ltv_total += derived.ltv or 0
    for tag in derived.tags:
        counts.tags[tag] = counts.tags.get(tag, 0) + 1


def customer_report(session: Session, workspace_id: int) -> dict[str, int]:
    """Customers in the mirror and why those that reach no subscriber were skipped."""
    live = and_(
        StripeCustomer.workspace_id == workspace_id,  # type: ignore[arg-type]
        ~col(StripeCustomer.deleted),
    )
    has_subscriber = exists().where(
        Subscriber.workspace_id == workspace_id,  # type: ignore[arg-type]
        Subscriber.email_norm == StripeCustomer.email_norm,  # type: ignore[arg-type]
    )

    def count(*conditions: Any) -> int:
        return int(session.exec(select(func.count()).where(live, *conditions)).one())

    return {
        "scanned": count(),
        "no_email": count(col(StripeCustomer.email_norm).is_(None)),
        "no_matching_subscriber": count(
            col(StripeCustomer.email_norm).is_not(None), ~has_subscriber
        ),
        "deleted": int(
            session.exec(
                select(func.count()).where(
                    StripeCustomer.workspace_id == workspace_id, col(StripeCustomer.deleted)
                )
            ).one()
        ),
    }
