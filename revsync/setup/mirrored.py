"""The setup step's choices read from the mirror, so showing them asks Stripe nothing.

The product picker lists the mirrored products (the full sync lists them, and the
settings page's refresh reads them again on the account's Stripe queue:
`workflows/setup.py`, `RefreshProductsWorkflow`); the metadata suggestions sample the
newest mirrored customers and subscriptions, as `reading.sample` does from Stripe.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from revsync.setup import reading
from revsync.store import mirror
from revsync.store.models import StripeCustomer, StripeProduct, StripeSubscription

SAMPLE = 100  # of each, like one page of each from Stripe


def products(session: Session, workspace_id: int) -> list[dict[str, Any]]:
    """The picker's products (`reading.picker`)."""
    return reading.picker(session.exec(select(StripeProduct.data).where(
        StripeProduct.workspace_id == workspace_id)).all())


def sample(session: Session, workspace_id: int
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The newest mirrored customers (not deleted) and subscriptions."""
    customers = session.exec(
        select(StripeCustomer.data)
        .where(StripeCustomer.workspace_id == workspace_id, ~col(StripeCustomer.deleted))
        .order_by(col(StripeCustomer.created).desc()).limit(SAMPLE)).all()
    subscriptions = session.exec(
        select(StripeSubscription.data)
        .where(StripeSubscription.workspace_id == workspace_id)
        .order_by(col(StripeSubscription.created).desc()).limit(SAMPLE)).all()
    return [dict(c) for c in customers], [dict(s) for s in subscriptions]


def store_products(session: Session, workspace_id: int, listed: list[dict[str, Any]],
                   listed_at: float) -> int:
    """Products just listed from Stripe, into the mirror; a row a later read (a sync's
    page) wrote is kept. Returns how many were offered."""
    stored = mirror.upsert(session, "products", workspace_id, listed, listed_at)
    session.commit()
    return stored
