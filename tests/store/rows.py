"""Rows written with plain SQL, so the database's triggers see them as any other
writer's (the triggers' tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, Numeric, Table, text

from revsync.store import db

SUBSCRIBER = ("INSERT INTO subscriber (id, workspace_id, email, email_norm, attributes, "
              "stripe_metadata, stripe_customer_ids, unsubscribed, updated_at) VALUES "
              "(:id, 1, :email, :email, '{}', :meta, '[]', false, '2026-01-01')")


def run(url: str, *statements: str) -> None:
    with db.get_engine(url).begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def add_workspace(url: str) -> None:
    """Workspace 1, "shop", through the table as the database has it: every required
    column gets an empty value of its type."""
    engine = db.get_engine(url)
    table = Table("workspace", MetaData(), autoload_with=engine)
    values: dict[str, object] = {"id": 1, "name": "shop", "fx_rates": {},
                                 "mrr_statuses": ["active", "trialing"]}
    for column in table.columns:
        if column.name not in values and not column.nullable and column.server_default is None:
            values[column.name] = _empty(column.type)
    with engine.begin() as conn:
        conn.execute(table.insert().values(**values))


def _empty(kind: object) -> object:
    if isinstance(kind, JSON):
        return []
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, Integer | Float | Numeric):
        return 1
    return ""


def add_people(url: str) -> None:
    """Workspace 1 and three subscribers, each with the same metadata."""
    add_workspace(url)
    with db.get_engine(url).begin() as conn:
        for n in (1, 2, 3):
            conn.execute(text(SUBSCRIBER), {"id": n, "email": f"p{n}@x.test",
                                            "meta": '{"plan": "pro", "seats": "5"}'})
