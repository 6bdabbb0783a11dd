"""Write a derivation's outcome onto one subscriber, and record what changed.

Only what differs is written, so deriving twice is a no-op and a transition is
recorded only for a real change. Tags from other sources are never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from revsync.revenue import Derived
from revsync.store.models import (
    CustomerLink,
    Subscriber,
    SubscriberTag,
    SubscriberTransition,
    utcnow,
)

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


def stripe_tags(session: Session, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
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


def write(
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
