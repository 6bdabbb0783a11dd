"""Change one subscriber the host names by email or external id: find it, give it a new
address, remove it, unsubscribe it.

Every function takes a locked session (`db.locked_session`) and leaves the commit to
the caller, so a change and the derivation it causes commit together. A new address is
re-matched to Stripe customers at once, silently, as a new subscriber is (`upsert`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete
from sqlmodel import Session, col, select

from revsync.automations.rule_store import sequence_rule_ids
from revsync.store.models import (
    AutomationFire,
    CustomerLink,
    EmailEvent,
    Subscriber,
    SubscriberTag,
    SubscriberTransition,
    utcnow,
)
from revsync.subscribers import upsert
from revsync.subscribers.addresses import checked_email, checked_external_id
from revsync.subscribers.upsert import ExternalIdTaken

# Rows that name a subscriber by foreign key: removed with it.
DEPENDENT_ROWS = (SubscriberTag, CustomerLink, SubscriberTransition, EmailEvent,
                  AutomationFire)


class SubscriberNotFound(Exception):
    """No subscriber of the workspace has this email or external id."""


class EmailTaken(Exception):
    """Another subscriber of the workspace has this address."""


def find(session: Session, workspace_id: int, *, email: str | None = None,
         external_id: str | None = None, lock: bool = False) -> Subscriber:
    """The subscriber with this email (compared normalised) or external id."""
    query = select(Subscriber).where(Subscriber.workspace_id == workspace_id)
    if email is not None:
        try:
            _, norm = checked_email(email)
        except ValueError:
            raise SubscriberNotFound("no subscriber with this email in this workspace") from None
        query = query.where(Subscriber.email_norm == norm)
    else:
        query = query.where(Subscriber.external_id == external_id)
    found = session.exec(query.with_for_update() if lock else query).first()
    if found is None:
        which = "email" if email is not None else "external_id"
        raise SubscriberNotFound(f"no subscriber with this {which} in this workspace")
    return found


def change(session: Session, subscriber: Subscriber, *, email: str | None = None,
           external_id: str | None = None, attributes: Mapping[str, str] | None = None,
           now: int | None = None) -> bool:
    """Give the subscriber a new address, external id or attributes (merged); whether
    anything changed. A new address is derived at once: the values of the customers it
    matches replace those of the old one, and a subscriber that held them is derived too.
    """
    if external_id is not None:
        checked_external_id(external_id)
        holder = session.exec(select(Subscriber.id).where(
            Subscriber.workspace_id == subscriber.workspace_id,
            Subscriber.external_id == external_id)).first()
        if holder is not None and holder != subscriber.id:
            raise ExternalIdTaken(upsert.TAKEN)
    changed = upsert.update(session, subscriber, external_id, attributes or {})
    if email is None:
        return changed
    address, norm = checked_email(email)
    if address == subscriber.email:
        return changed
    if norm != subscriber.email_norm and session.exec(select(Subscriber.id).where(
            Subscriber.workspace_id == subscriber.workspace_id,
            Subscriber.email_norm == norm)).first() is not None:
        raise EmailTaken("another subscriber has this email")
    subscriber.email, subscriber.email_norm = address, norm
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    session.flush()
    upsert.derive_silently(session, subscriber.workspace_id, [subscriber], now)
    return True


def remove(session: Session, subscriber: Subscriber) -> list[int]:
    """Delete the subscriber with its tags, links, transitions, events and fires; the
    sequence rules whose runs for it the caller stops (as for an unsubscribe)."""
    assert subscriber.id is not None
    for model in DEPENDENT_ROWS:
        table = model.__table__  # type: ignore[union-attr]
        session.execute(delete(table).where(table.c.subscriber_id == subscriber.id))
    session.delete(subscriber)
    return sequence_rule_ids(session, subscriber.workspace_id)


def unsubscribe(session: Session, subscriber: Subscriber) -> list[int]:
    """Mark the subscriber unsubscribed; the sequence rules whose runs for it the caller
    stops (`automations.client.unsubscribe`), once this is committed."""
    subscriber.unsubscribed = True
    subscriber.updated_at = utcnow()
    session.add(subscriber)
    return sequence_rule_ids(session, subscriber.workspace_id)


def ids_of(session: Session, workspace_id: int, *, emails: list[str],
           external_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Subscriber ids by normalised email and by external id (unknown ones left out)."""
    by_email: dict[str, int] = {}
    by_external: dict[str, int] = {}
    if emails:
        for sid, norm in session.exec(select(Subscriber.id, Subscriber.email_norm).where(
                Subscriber.workspace_id == workspace_id,
                col(Subscriber.email_norm).in_(sorted(set(emails))))):
            assert sid is not None
            by_email[norm] = sid
    if external_ids:
        for sid, external in session.exec(select(Subscriber.id, Subscriber.external_id).where(
                Subscriber.workspace_id == workspace_id,
                col(Subscriber.external_id).in_(sorted(set(external_ids))))):
            assert sid is not None and external is not None
            by_external[external] = sid
    return by_email, by_external
