"""Mirror upserts: slim projections, the freshness guard, odd Stripe objects."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from revsync.settings import Settings
from revsync.store import db, mirror
from revsync.store.models import StripeCharge, StripeCustomer, Workspace


def workspace_id(url: str) -> int:
    with db.session(url) as session:
        ws = Workspace(name="m")
        session.add(ws)
        session.commit()
        assert ws.id is not None
        return ws.id


def test_older_read_never_replaces_a_fresher_one(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    ws = workspace_id(url)
    with db.session(url) as session:
        mirror.upsert(session, "customers", ws, [{"id": "cus_1", "email": "new@x.io"}], 20.0)
        mirror.upsert(session, "customers", ws, [{"id": "cus_1", "email": "old@x.io"}], 10.0)
        mirror.upsert(session, "customers", ws, [{"id": "cus_2", "email": "A@X.io"}], 10.0)
        mirror.upsert(session, "customers", ws, [{"id": "cus_2", "email": "b@x.io"}], 10.0)
        session.commit()
        rows = {c.id: c for c in session.exec(select(StripeCustomer))}
    assert rows["cus_1"].email_norm == "new@x.io" and rows["cus_1"].fetched_at == 20.0
    # An equally fresh read wins (a re-read of the same page is the newest truth).
    assert rows["cus_2"].email_norm == "b@x.io"


def test_odd_objects_are_stored_safely_or_left_out(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    ws = workspace_id(url)
    odd: list[dict[str, Any]] = [
        {"id": "ch_1", "customer": {"id": "cus_9", "object": "customer"}, "amount": 5,
         "payment_method_details": {"card": {"last4": "4242"}}},
        {"id": "ch_2", "customer": None, "created": "yesterday"},
        {"amount": 100},  # no id: cannot be keyed
        {"id": "", "amount": 1},
    ]
    with db.session(url) as session:
        stored = mirror.upsert(session, "charges", ws, odd, 1.0)
        session.commit()
        rows = {c.id: c for c in session.exec(select(StripeCharge))}
    assert stored == 2 and set(rows) == {"ch_1", "ch_2"}
    assert rows["ch_1"].customer == "cus_9"
    assert "payment_method_details" not in rows["ch_1"].data  # projection keeps it slim
    assert (rows["ch_2"].customer, rows["ch_2"].created) == (None, 0)


def test_customer_email_of_wrong_type_is_treated_as_missing(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    ws = workspace_id(url)
    with db.session(url) as session:
        mirror.upsert(session, "customers", ws, [{"id": "cus_1", "email": 42},
                                                 {"id": "cus_2", "email": "   "}], 1.0)
        session.commit()
        norms = {c.id: c.email_norm for c in session.exec(select(StripeCustomer))}
    assert norms == {"cus_1": None, "cus_2": None}


def test_sweep_keeps_what_this_run_listed_whatever_the_clocks(database_url: str) -> None:
    url = Settings(database_url=database_url).resolved_database_url
    ws = workspace_id(url)
    with db.session(url) as session:
        # Stamped by a worker whose clock lags far behind the run's start.
        mirror.upsert(session, "charges", ws, [{"id": "ch_listed"}], 1.0, seen_run=7)
        mirror.upsert(session, "charges", ws, [{"id": "ch_gone"}], 1.0, seen_run=6)
        mirror.upsert(session, "charges", ws, [{"id": "ch_webhook"}], 500.0)
        mirror.upsert(session, "customers", ws, [{"id": "cus_gone", "email": "x@y.io"}], 1.0)
        session.commit()
        removed = mirror.sweep(session, "charges", ws, sync_run_id=7, listed_since=100.0)
        tombstoned = mirror.sweep(session, "customers", ws, sync_run_id=7, listed_since=100.0)
        session.commit()
        charges = {c.id for c in session.exec(select(StripeCharge))}
        customer = session.exec(select(StripeCustomer)).one()
    assert (removed, tombstoned) == (1, 1)
    assert charges == {"ch_listed", "ch_webhook"}
    assert customer.deleted
