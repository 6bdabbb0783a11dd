"""tag bits per statement

On PostgreSQL the triggers keeping `subscriber.tag_bits` fire once per statement on
`subscriber_tag`, over its transition tables, instead of once per row. A row trigger
rewrote the subscriber once for each tag written (a new row version with an entry in
each of its indexes every time), and looked the subscriber's tags up with a plan made
while the table was small: a sequential scan per tag, growing with the table during a
first sync.

Inserted tags only add bits, so the insert trigger ORs the new rows' bits into each
subscriber they name, reading no other tag, and leaves a subscriber whose bits do not
change untouched. A delete or update recomputes the bits of the subscribers it touched
from their remaining tags, as before (another source may hold the same tag). SQLite has
only row triggers: its own stay.

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


def _bit_of(column: str) -> str:
    cases = " ".join(f"WHEN '{tag}' THEN {bit}" for tag, bit in TAG_BITS.items())
    return f"CASE {column} {cases} ELSE 0 END"


def _bits_of(subscriber: str) -> str:
    return (f"(SELECT COALESCE(SUM(DISTINCT {_bit_of('tag')}), 0) FROM subscriber_tag "
            f"WHERE subscriber_id = {subscriber})")


KNOWN = "(" + ", ".join(f"'{tag}'" for tag in TAG_BITS) + ")"
ADD = f"""
    UPDATE subscriber SET tag_bits = subscriber.tag_bits | added.bits
    FROM (SELECT subscriber_id, bit_or({_bit_of('tag')}) AS bits FROM new_rows
          GROUP BY subscriber_id) AS added
    WHERE subscriber.id = added.subscriber_id
      AND subscriber.tag_bits | added.bits <> subscriber.tag_bits;"""


def _recompute(touched: str) -> str:
    return (f"UPDATE subscriber SET tag_bits = {_bits_of('subscriber.id')} "
            f"WHERE id IN ({touched});")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name} ON subscriber_tag")
    # PL/pgSQL plans a statement when it first runs it, so each branch names only the
    # transition tables its events have.
    removed = f"SELECT subscriber_id FROM old_rows WHERE tag IN {KNOWN}"
    moved = ("SELECT subscriber_id FROM old_rows UNION SELECT subscriber_id FROM new_rows")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION subscriber_tag_bits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN {ADD}
            ELSIF TG_OP = 'DELETE' THEN {_recompute(removed)}
            ELSE {_recompute(moved)}
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
