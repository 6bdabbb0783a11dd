"""Apply one Stripe event: re-derive the subscribers its customers reach, exactly once.

Runs in one locked transaction (see `db.locked_session`): the event's record, the
subscribers' new values and the transitions they went through commit together, so
a retried or redelivered event finds its record and changes nothing, and two events
for one customer cannot both observe the same transition.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, union_all
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from revsync.events.parsing import PRODUCT_STREAMS
from revsync.events.types import ApplyInput, EventResult, Target
from revsync.events.watched_products import object_products
from revsync.store import workspaces
from revsync.store.models import (
    MIRROR_TABLES,
    CustomerLink,
    StripeCustomer,
    StripeEvent,
    Subscriber,
    utcnow,
)
from revsync.subscribers import derivation, facts

APPLIED = "applied"
ALREADY_APPLIED = "already_applied"
NOT_WATCHED = "not_watched"


def apply_event(session: Session, request: ApplyInput, now: int) -> EventResult:
    """Re-derive and record; the caller's session must be a `locked_session`."""
    done = session.get(StripeEvent, (request.workspace_id, request.event_id))
    if done is not None:
        session.rollback()
        return EventResult(ALREADY_APPLIED, subscribers=done.subscribers)
    # Held while the inputs are read, so their lookup finds it in the session's identity
    # map (which holds rows weakly) instead of reading the row again.
    workspace = workspaces.by_id(session, request.workspace_id)
    inputs = derivation.inputs_for(session, request.workspace_id, whole_catalogue=False)
    watch = workspace.watch_products
    if watch and not _watched(session, request, set(watch)):
        _record(session, request, NOT_WATCHED, 0)
        session.commit()
        return EventResult(NOT_WATCHED)
    subscribers = lock_subscribers(session, request.workspace_id, request.customer_ids)
    derived = derivation.derive(session, inputs, subscribers, now, request.event_id,
                                follow_displaced=True)
    _record(session, request, APPLIED, len(derived.subscriber_ids))
    session.commit()
    return EventResult(APPLIED, subscribers=len(derived.subscriber_ids),
                       transitions=len(derived.transitions), to_hand_over=derived.to_hand_over)


def lock_subscribers(
    session: Session, workspace_id: int, customer_ids: Sequence[str]
) -> Sequence[Subscriber]:
    """The subscribers these customers reach now (by email) or reached before (by link).

    Locked in id order, so concurrent events never deadlock on each other.
    """
    if not customer_ids:
        return []
    return session.exec(lock_statement(workspace_id, customer_ids)).all()


def lock_statement(workspace_id: int, customer_ids: Sequence[str]) -> SelectOfScalar[Subscriber]:
    emails = select(StripeCustomer.email_norm).where(
        StripeCustomer.workspace_id == workspace_id,
        col(StripeCustomer.id).in_(customer_ids),
        col(StripeCustomer.email_norm).is_not(None),
    )
    by_email = select(Subscriber.id).where(Subscriber.workspace_id == workspace_id,
                                           col(Subscriber.email_norm).in_(emails))
    linked = select(CustomerLink.subscriber_id).where(
        CustomerLink.workspace_id == workspace_id,
        col(CustomerLink.customer_id).in_(customer_ids),
    )
    # The ids first, each from its own index, then the rows by key: an OR of the two
    # tests would make the database read every subscriber of the workspace per event.
    return (
        select(Subscriber)
        .where(Subscriber.workspace_id == workspace_id,
               col(Subscriber.id).in_(union_all(by_email, linked)))
        .order_by(col(Subscriber.id))
        .with_for_update()
    )


def _watched(session: Session, request: ApplyInput, watch: set[str]) -> bool:
    """Customer events always count; money events only for a watched product."""
    about: list[Target] = [t for t in request.targets if t.stream in PRODUCT_STREAMS]
    if not about:
        return True
    customers = facts.load_customer_facts(session, request.workspace_id,
                                        request.customer_ids)
    rows = [session.get(MIRROR_TABLES[t.stream], (request.workspace_id, t.id)) for t in about]
    objects = [None if row is None else row.data for row in rows]
    catalogue = facts.catalogue_for(session, request.workspace_id, customers, also=objects)
    for target, data in zip(about, objects, strict=True):
        if object_products(target.stream, data, customers, catalogue) & watch:
            return True
    return False


def _record(session: Session, request: ApplyInput, outcome: str, subscribers: int) -> None:
    # A plain insert: the record is the only row the event adds through the session, and
    # the ORM's flush at commit would cost more than the statement itself.
    session.execute(insert(StripeEvent).values(
        workspace_id=request.workspace_id,
        id=request.event_id,
        type=request.event_type,
        created=request.created,
        outcome=outcome,
        subscribers=subscribers,
        applied_at=utcnow(),
    ))
