"""tag bits per statement

On PostgreSQL the triggers keeping `subscriber.tag_bits` fire once per statement on
`subscriber_tag`, over its transition tables, instead of once per row. A row trigger
rewrites the subscriber once for each tag written: a new row version with an entry in
each of its indexes every time, which made writing a batch's tags most of a
derivation's time. A statement's trigger rewrites each subscriber it touched once, and
the bits are the same, computed when the statement ends. SQLite has only row triggers:
its own stay.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 03:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of revsync.segments.tag_bits.TAG_BITS as of this revision (see 0001).
TAG_BITS = {"customer": 1, "trial": 2, "past-due": 4, "cancelled": 8, "churned": 16,
            "saas.monthly": 32, "saas.yearly": 64}
TRIGGERS = {"INSERT": "subscriber_tag_bits_insert", "DELETE": "subscriber_tag_bits_delete",
            "UPDATE": "subscriber_tag_bits_update"}
# The transition tables each event has (an UPDATE has both).
REFERENCING = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
               "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}


def _bits_of(subscriber: str) -> str:
    cases = " ".join(f"WHEN '{tag}' THEN {bit}" for tag, bit in TAG_BITS.items())
    return (f"(SELECT COALESCE(SUM(DISTINCT CASE tag {cases} ELSE 0 END), 0) "
            f"FROM subscriber_tag WHERE subscriber_id = {subscriber})")


def _refresh(rows: str) -> str:
    return (f"UPDATE subscriber SET tag_bits = {_bits_of('subscriber.id')} "
            f"WHERE id IN (SELECT subscriber_id FROM {rows});")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name} ON subscriber_tag")
    # PL/pgSQL plans a statement when it first runs it, so each branch names only the
    # transition tables its events have.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION subscriber_tag_bits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN {_refresh('new_rows')}
            ELSIF TG_OP = 'DELETE' THEN {_refresh('old_rows')}
            ELSE {_refresh('(SELECT subscriber_id FROM old_rows UNION '
                           'SELECT subscriber_id FROM new_rows) AS moved')}
            END IF;
            RETURN NULL;
        END $$""")
    for event, name in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON subscriber_tag "
                   f"REFERENCING {REFERENCING[event]} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION subscriber_tag_bits()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name} ON subscriber_tag")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION subscriber_tag_bits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE subscriber SET tag_bits = {_bits_of('OLD.subscriber_id')}
                WHERE id = OLD.subscriber_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE subscriber SET tag_bits = {_bits_of('NEW.subscriber_id')}
                WHERE id = NEW.subscriber_id;
            END IF;
            RETURN NULL;
        END $$""")
    for event, name in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON subscriber_tag FOR EACH ROW "
                   "EXECUTE FUNCTION subscriber_tag_bits()")
