"""Apply one Stripe event: re-derive the subscribers its customers reach, exactly once.

Runs in one locked transaction (see `db.locked_session`): the event's record, the
subscribers' new values and the transitions they went through commit together, so
a retried or redelivered event finds its record and changes nothing, and two events
for one customer cannot both observe the same transition.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from revsync.events.parsing import PRODUCT_STREAMS
from revsync.events.types import ApplyInput, EventResult, Target
from revsync.events.watched_products import object_products
from revsync.revenue import Catalogue
from revsync.store import workspaces
from revsync.store.models import (
    MIRROR_TABLES,
    CustomerLink,
    StripeCustomer,
    StripeEvent,
    Subscriber,
)
from revsync.subscribers import derivation

APPLIED = "applied"
ALREADY_APPLIED = "already_applied"
NOT_WATCHED = "not_watched"


def apply_event(session: Session, request: ApplyInput, now: int) -> EventResult:
    """Re-derive and record; the caller's session must be a `locked_session`."""
    done = session.get(StripeEvent, (request.workspace_id, request.event_id))
    if done is not None:
        session.rollback()
        return EventResult(ALREADY_APPLIED, subscribers=done.subscribers)
    workspace = workspaces.by_id(session, request.workspace_id)
    policy = workspaces.policy(workspace)
    catalogue = derivation.load_catalogue(session, request.workspace_id)
    if workspace.watch_products and not _watched(
        session, request, set(workspace.watch_products), catalogue
    ):
        _record(session, request, NOT_WATCHED, 0)
        session.commit()
        return EventResult(NOT_WATCHED)
    subscribers = lock_subscribers(session, request.workspace_id, request.customer_ids)
    derived: set[int] = set()
    transitions: list[derivation.Transition] = []
    while subscribers:
        # A subscriber that takes over a customer displaces its previous holder, which
        # is derived next in the same transaction (until no one is displaced).
        displaced: set[int] = set()
        _, found = derivation.derive_locked(
            session, request.workspace_id, policy, catalogue, subscribers, now, displaced
        )
        transitions += found
        derived |= {s.id for s in subscribers if s.id is not None}
        subscribers = lock_by_id(session, request.workspace_id, displaced - derived)
    derivation.record_transitions(session, request.workspace_id, request.event_id, transitions)
    _record(session, request, APPLIED, len(derived))
    session.commit()
    return EventResult(APPLIED, subscribers=len(derived), transitions=len(transitions))


def lock_subscribers(
    session: Session, workspace_id: int, customer_ids: Sequence[str]
) -> Sequence[Subscriber]:
    """The subscribers these customers reach now (by email) or reached before (by link).

    Locked in id order, so concurrent events never deadlock on each other.
    """
    if not customer_ids:
        return []
    emails = select(StripeCustomer.email_norm).where(
        StripeCustomer.workspace_id == workspace_id,
        col(StripeCustomer.id).in_(customer_ids),
        col(StripeCustomer.email_norm).is_not(None),
    )
    linked = select(CustomerLink.subscriber_id).where(
        CustomerLink.workspace_id == workspace_id,
        col(CustomerLink.customer_id).in_(customer_ids),
    )
    return session.exec(
        select(Subscriber)
        .where(
            Subscriber.workspace_id == workspace_id,
            col(Subscriber.email_norm).in_(emails) | col(Subscriber.id).in_(linked),
        )
        .order_by(col(Subscriber.id))
        .with_for_update()
    ).all()


def lock_by_id(
    session: Session, workspace_id: int, subscriber_ids: set[int]
) -> Sequence[Subscriber]:
    if not subscriber_ids:
        return []
    return session.exec(
        select(Subscriber)
        .where(Subscriber.workspace_id == workspace_id, col(Subscriber.id).in_(subscriber_ids))
        .order_by(col(Subscriber.id))
        .with_for_update()
    ).all()


def _watched(
    session: Session, request: ApplyInput, watch: set[str], catalogue: Catalogue
) -> bool:
    """Customer events always count; money events only for a watched product."""
    about: list[Target] = [t for t in request.targets if t.stream in PRODUCT_STREAMS]
    if not about:
        return True
    facts = derivation.load_customer_facts(session, request.workspace_id, request.customer_ids)
    for target in about:
        row = session.get(MIRROR_TABLES[target.stream], (request.workspace_id, target.id))
        data = None if row is None else row.data
        if object_products(target.stream, data, facts, catalogue) & watch:
            return True
    return False


def _record(session: Session, request: ApplyInput, outcome: str, subscribers: int) -> None:
    session.add(
        StripeEvent(
            workspace_id=request.workspace_id,
            id=request.event_id,
            type=request.event_type,
            created=request.created,
            outcome=outcome,
            subscribers=subscribers,
        )
    )
