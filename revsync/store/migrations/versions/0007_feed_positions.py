"""feed positions

Change-feed positions are transition ids, and a platform's sink deduplicates on them:
they must never wrap. On PostgreSQL the transition's key, its sequence and the three
columns that name a transition become 64-bit. SQLite's INTEGER already is.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 02:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMING = ("rule_outcome", "outbound_delivery", "automation_fire")


def upgrade() -> None:
    _retype(sa.BigInteger(), "bigint")


def downgrade() -> None:
    _retype(sa.Integer(), "integer")


def _retype(type_: sa.types.TypeEngine[int], sequence_type: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("subscriber_transition", "id", type_=type_)
    op.execute(f"ALTER SEQUENCE subscriber_transition_id_seq AS {sequence_type}")
    for table in NAMING:
        op.alter_column(table, "transition_id", type_=type_)
