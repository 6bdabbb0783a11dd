"""change feed

Every derived change of a subscriber is an entry of the change feed
(`revsync.feed`), silent ones included:

* `subscriber_transition.metadata_before` / `metadata_after`: the carried Stripe
  metadata on either side of the change, so an entry tells everything that changed;
* `subscriber_transition.silent`: a subscriber's starting values, which start no
  automation;
* `sink_cursor`: how far the platform's sink activity has acknowledged each
  workspace's feed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METADATA = ("metadata_before", "metadata_after")


def upgrade() -> None:
    for column in METADATA:
        op.add_column("subscriber_transition",
                      sa.Column(column, sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("subscriber_transition",
                  sa.Column("silent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "sink_cursor",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("workspace_id"),
    )


def downgrade() -> None:
    op.drop_table("sink_cursor")
    for column in (*METADATA, "silent"):
        op.drop_column("subscriber_transition", column)
