"""stripe account id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_account_id", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_workspace_stripe_account_id"), ["stripe_account_id"],
                              unique=False)
    # Workspaces connected through OAuth already name their account.
    op.execute("UPDATE workspace SET stripe_account_id = stripe_account "
               "WHERE stripe_account IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workspace_stripe_account_id"))
        batch_op.drop_column("stripe_account_id")
