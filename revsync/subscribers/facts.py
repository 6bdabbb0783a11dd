"""What the mirror knows about a workspace's Stripe customers, read for derivation.

Reads only: the price and coupon catalogue, each live customer with its subscriptions,
charges and (when a product filter needs them) paid invoices, and the customer counts
of a sync's report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func
from sqlmodel import Session, col, select

from revsync.revenue import Catalogue, CustomerFacts
from revsync.store.models import (
    StripeCharge,
    StripeCoupon,
    StripeCustomer,
    StripeInvoice,
    StripePrice,
    StripeSubscription,
    Subscriber,
)


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
