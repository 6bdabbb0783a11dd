"""What the mirror knows about a workspace's Stripe customers, read for derivation.

Reads only: the price and coupon catalogue, each live customer with its subscriptions,
charges and (when a product filter needs them) paid invoices, and the customer counts
of a sync's report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Table, Text, and_, cast, exists, func
from sqlmodel import Session, col, select

from revsync.revenue import Catalogue, CustomerFacts
from revsync.revenue.references import catalogue_references
from revsync.store import db
from revsync.store.models import (
    StripeCharge,
    StripeCoupon,
    StripeCustomer,
    StripeInvoice,
    StripePrice,
    StripeSubscription,
    Subscriber,
)


def load_catalogue(session: Session, workspace_id: int,
                   price_ids: Collection[str] | None = None,
                   coupon_ids: Collection[str] | None = None) -> Catalogue:
    """The workspace's prices and coupons; only the ids given, where they are given."""
    return Catalogue(prices=_entries(session, StripePrice, workspace_id, price_ids),
                     coupons=_entries(session, StripeCoupon, workspace_id, coupon_ids))


def catalogue_for(session: Session, workspace_id: int, customers: Iterable[CustomerFacts],
                  also: Iterable[Any] = ()) -> Catalogue:
    """Only the catalogue entries these customers' subscriptions and invoices (and the
    objects `also` given) refer to."""
    objects = [obj for fact in customers for obj in (*fact.subscriptions, *fact.paid_invoices)]
    price_ids, coupon_ids = catalogue_references([*objects, *also])
    return load_catalogue(session, workspace_id, price_ids, coupon_ids)


def _entries(session: Session, model: type[StripePrice] | type[StripeCoupon],
             workspace_id: int, ids: Collection[str] | None) -> dict[str, Any]:
    if ids is not None and not ids:
        return {}
    table = _table(model)
    query = select(table.c.id, _data_as_text(table)).where(table.c.workspace_id == workspace_id)
    if ids is not None:
        query = query.where(table.c.id.in_(sorted(ids)))
    return {entry_id: _json(data) for entry_id, data in session.execute(query)}


def _json(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)


def _table(model: Any) -> Table:
    """The model's table. The mirror is read with Core statements on it: rows come back
    as plain tuples, without the ORM's result processing for each of the tens of
    thousands of rows a batch of subscribers reads."""
    table: Table = model.__table__
    return table


def _data_as_text(table: Table) -> Any:
    """The `data` column as its JSON text, parsed here with orjson: several times faster
    than the JSON type's own `json.loads` for the tens of thousands of rows a batch of
    subscribers reads."""
    return cast(table.c.data, Text).label("data")


def load_facts(
    session: Session, workspace_id: int, emails: Sequence[str], with_invoices: bool
) -> dict[str, list[CustomerFacts]]:
    """Every live Stripe customer for these normalised emails, with its objects."""
    customers = _customers(session, workspace_id, "email_norm", emails)
    facts: dict[str, list[CustomerFacts]] = defaultdict(list)
    for (_, email, _), fact in zip(
        customers, _with_objects(session, workspace_id, customers, with_invoices), strict=True
    ):
        assert email is not None
        facts[email].append(fact)
    return facts


def load_customer_facts(
    session: Session, workspace_id: int, customer_ids: Sequence[str]
) -> list[CustomerFacts]:
    """These live customers with their objects (invoices included)."""
    customers = _customers(session, workspace_id, "id", customer_ids)
    return _with_objects(session, workspace_id, customers, with_invoices=True)


_Customer = tuple[str, str | None, dict[str, Any]]  # id, normalised email, data


def _customers(session: Session, workspace_id: int, key: str, values: Sequence[str]
               ) -> list[_Customer]:
    # Sorted here, not in SQL: an ORDER BY id makes SQLite scan the whole workspace by
    # its primary key instead of looking the emails up in their index.
    rows = _mirror_rows(session, StripeCustomer, ("id", "email_norm"), workspace_id, key, values,
                        live_only=True)
    return [(i, email, _json(data)) for i, email, data in sorted(rows, key=itemgetter(0))]


def _with_objects(
    session: Session,
    workspace_id: int,
    customers: Sequence[_Customer],
    with_invoices: bool,
) -> list[CustomerFacts]:
    ids = [c[0] for c in customers]

    def children(model: Any) -> dict[str, list[dict[str, Any]]]:
        if not ids:
            return {}
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        rows = _mirror_rows(session, model, ("customer", "id"), workspace_id, "customer", ids)
        for customer, _, data in sorted(rows, key=itemgetter(0, 1)):  # as for customers
            grouped[customer].append(_json(data))
        return grouped

    subscriptions = children(StripeSubscription)
    charges = children(StripeCharge)
    invoices = children(StripeInvoice) if with_invoices else {}
    return [
        CustomerFacts(
            customer=data,
            subscriptions=subscriptions.get(customer_id, []),
            charges=charges.get(customer_id, []),
            paid_invoices=invoices.get(customer_id, []),
        )
        for customer_id, _, data in customers
    ]


def _mirror_rows(session: Session, model: Any, columns: tuple[str, str], workspace_id: int,
                 key: str, values: Sequence[str], live_only: bool = False
                 ) -> list[tuple[str, Any, str]]:
    """`columns` and the JSON text of `data` of the mirror rows whose `key` is one of
    `values`, straight from the driver's cursor in the session's transaction.

    A batch of subscribers reads tens of thousands of these rows: SQLAlchemy's result
    rows cost about as much again as fetching them, and its expanded IN list of a few
    hundred parameters is new statement text for each batch. The values go as one
    parameter instead (an array on PostgreSQL, a JSON array SQLite reads with
    `json_each`), each looked up in the (workspace, key) index. Read past the session's
    autoflush: the mirror is written with statements, never pending ORM changes.
    """
    table = _table(model).name
    names = ", ".join(columns)
    live = " AND NOT deleted" if live_only else ""
    if db.on_postgresql(session):
        sql = (f"SELECT {names}, data::text FROM {table} "
               f"WHERE workspace_id = %s AND {key} = ANY(%s){live}")
        params: tuple[Any, ...] = (workspace_id, list(values))
    else:
        sql = (f"SELECT {names}, data FROM {table} "
               f"WHERE workspace_id = ? AND {key} IN (SELECT value FROM json_each(?)){live}")
        params = (workspace_id, orjson.dumps(list(values)).decode())
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


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
