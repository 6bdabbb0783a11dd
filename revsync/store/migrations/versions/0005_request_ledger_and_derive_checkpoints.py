"""request ledger and derive checkpoints

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:57:29.002848
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "derive_checkpoint",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("derive_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_derive_checkpoint_updated_at"), ["updated_at"],
                              unique=False)
    with op.batch_alter_table("stream_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requests_sent", sa.Integer(), server_default="0",
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("stream_checkpoint", schema=None) as batch_op:
        batch_op.drop_column("requests_sent")
    with op.batch_alter_table("derive_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_derive_checkpoint_updated_at"))
    op.drop_table("derive_checkpoint")
