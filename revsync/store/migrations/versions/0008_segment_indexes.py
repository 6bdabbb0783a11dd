"""segment indexes: tag bits on the subscriber row, revenue indexes, JSONB metadata

`subscriber.tag_bits` holds one bit per Stripe-managed tag the subscriber has from any
source, kept by triggers on `subscriber_tag` (every writer of tags is covered, and
existing rows are filled here). With it a segment such as `tag = churned AND ltv > 500`
reads one index, `(workspace_id, ltv, tag_bits)`, instead of a subquery per subscriber.
On PostgreSQL `stripe_metadata` becomes JSONB with a GIN index, so `plan = enterprise`
is an index lookup (`@>`) rather than a scan of every row's JSON.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of revsync.segments.tag_bits.TAG_BITS as of this revision.
TAG_BITS = {"customer": 1, "trial": 2, "past-due": 4, "cancelled": 8, "churned": 16,
            "saas.monthly": 32, "saas.yearly": 64}
TRIGGERS = ("subscriber_tag_bits_insert", "subscriber_tag_bits_delete",
            "subscriber_tag_bits_update")


def _bit_of(column: str) -> str:
    cases = " ".join(f"WHEN '{tag}' THEN {bit}" for tag, bit in TAG_BITS.items())
    return f"CASE {column} {cases} ELSE 0 END"


def _bits_of(subscriber: str) -> str:
    """The OR of a subscriber's tag bits; bits are distinct powers of two, so the sum of
    the distinct ones is their OR (SQLite has no bitwise aggregate)."""
    return (f"(SELECT COALESCE(SUM(DISTINCT {_bit_of('tag')}), 0) FROM subscriber_tag "
            f"WHERE subscriber_id = {subscriber})")


def _refresh(subscriber: str) -> str:
    return f"UPDATE subscriber SET tag_bits = {_bits_of(subscriber)} WHERE id = {subscriber};"


def upgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag_bits", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.execute("UPDATE subscriber SET tag_bits = " + _bits_of("subscriber.id")
               + " WHERE id IN (SELECT subscriber_id FROM subscriber_tag)")
    if op.get_context().dialect.name == "postgresql":
        _postgresql_triggers()
        op.alter_column("subscriber", "stripe_metadata", type_=postgresql.JSONB(),
                        postgresql_using="stripe_metadata::jsonb")
        op.create_index("ix_subscriber_metadata", "subscriber", ["stripe_metadata"],
                        postgresql_using="gin",
                        postgresql_ops={"stripe_metadata": "jsonb_path_ops"})
    else:
        _sqlite_triggers()
    op.create_index("ix_subscriber_ws_mrr", "subscriber", ["workspace_id", "mrr", "tag_bits"])
    op.create_index("ix_subscriber_ws_ltv", "subscriber", ["workspace_id", "ltv", "tag_bits"])


def _sqlite_triggers() -> None:
    known = "(" + ", ".join(f"'{tag}'" for tag in TAG_BITS) + ")"
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_insert AFTER INSERT ON subscriber_tag "
               f"WHEN NEW.tag IN {known} BEGIN {_refresh('NEW.subscriber_id')} END")
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_delete AFTER DELETE ON subscriber_tag "
               f"WHEN OLD.tag IN {known} BEGIN {_refresh('OLD.subscriber_id')} END")
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_update AFTER UPDATE ON subscriber_tag "
               f"BEGIN {_refresh('OLD.subscriber_id')} {_refresh('NEW.subscriber_id')} END")


def _postgresql_triggers() -> None:
    op.execute(f"""
        CREATE FUNCTION subscriber_tag_bits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN {_refresh('OLD.subscriber_id')} END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {_refresh('NEW.subscriber_id')} END IF;
            RETURN NULL;
        END $$""")
    for name, event in zip(TRIGGERS, ("INSERT", "DELETE", "UPDATE"), strict=True):
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON subscriber_tag FOR EACH ROW "
                   f"EXECUTE FUNCTION subscriber_tag_bits()")


def downgrade() -> None:
    op.drop_index("ix_subscriber_ws_ltv", table_name="subscriber")
    op.drop_index("ix_subscriber_ws_mrr", table_name="subscriber")
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("ix_subscriber_metadata", table_name="subscriber")
        op.alter_column("subscriber", "stripe_metadata", type_=sa.JSON(),
                        postgresql_using="stripe_metadata::json")
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON subscriber_tag")
        op.execute("DROP FUNCTION subscriber_tag_bits()")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("tag_bits")
