"""Refetch the objects an event names and store their current state in the mirror.

The mirror's guard compares when each read was *requested*, so a full-sync page
requested before this refetch can never overwrite it, and vice versa. Objects Stripe
no longer has are forgotten the same guarded way (a customer becomes a tombstone).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import stripe
from sqlalchemy import delete
from sqlmodel import Session, col, select

from revsync.events.types import Refetched, Target
from revsync.gateway.stripe_api import STREAMS, StripeGateway
from revsync.store import db, mirror
from revsync.store.models import MIRROR_TABLES, StripeCustomer

# The same expansions a full sync lists with, so both write identical projections.
EXPAND: dict[str, tuple[str, ...]] = {
    stream: tuple(p.removeprefix("data.") for p in STREAMS[stream].params.get("expand", []))
    for stream in ("customers", "subscriptions", "charges", "invoices")
}


def refetch(
    gateway: StripeGateway, url: str, workspace_id: int, targets: Sequence[Target]
) -> Refetched:
    """Store the current state of `targets` (and of customers the mirror lacks).

    One session throughout; each object commits as soon as it is stored, so no
    transaction stays open while Stripe answers."""
    customers: list[str] = []
    requests = 0
    with db.session(url) as session:
        for target in targets:
            obj, spent = _store_current(gateway, session, workspace_id, target)
            requests += spent
            customer = target.id if target.stream == "customers" else _customer_of(obj)
            if customer and customer not in customers:
                customers.append(customer)
        for customer in _unknown_customers(session, workspace_id, customers):
            target = Target("customers", customer)
            requests += _store_current(gateway, session, workspace_id, target)[1]
    return Refetched(customer_ids=sorted(customers), requests=requests)


def _store_current(
    gateway: StripeGateway, session: Session, workspace_id: int, target: Target
) -> tuple[dict[str, Any] | None, int]:
    resource = STREAMS[target.stream].resource
    asked = time.time()  # a 404 carries no send time; this one is no later than it
    try:
        obj, requests, requested_at = gateway.retrieve(resource, target.id, EXPAND[target.stream])
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
        _forget(session, workspace_id, target, requested_at=asked)
        session.commit()
        return None, 1
    requests += gateway.complete(target.stream, obj)[1]
    if mirror.has_id(obj) and obj["id"] == target.id:
        mirror.upsert(session, target.stream, workspace_id, [obj], requested_at)
        session.commit()
    return obj, requests


def _forget(session: Session, workspace_id: int, target: Target, requested_at: float) -> None:
    if target.stream == "customers":
        tombstone = {"id": target.id, "object": "customer", "deleted": True}
        mirror.upsert(session, "customers", workspace_id, [tombstone], requested_at)
        return
    model = MIRROR_TABLES[target.stream]
    session.execute(
        delete(model).where(
            col(model.workspace_id) == workspace_id,
            col(model.id) == target.id,
            col(model.fetched_at) <= requested_at,
        )
    )


def _unknown_customers(session: Session, workspace_id: int, customer_ids: list[str]
                       ) -> list[str]:
    """Customers created after the last sync: their email is needed to match them."""
    if not customer_ids:
        return []
    known = set(session.exec(
        select(StripeCustomer.id).where(StripeCustomer.workspace_id == workspace_id,
                                        col(StripeCustomer.id).in_(customer_ids))
    ).all())
    session.rollback()  # ends the read, so no transaction stays open while Stripe answers
    return [c for c in customer_ids if c not in known]


def _customer_of(obj: dict[str, Any] | None) -> str | None:
    return None if obj is None else mirror.ref(obj.get("customer"))
