"""outbound webhooks: the host platform's endpoint per workspace, and every attempt

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outbound_webhook_url", sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column("outbound_webhook_secret_encrypted", sa.String(),
                                      nullable=True))
    op.create_table(
        "outbound_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbound_delivery_ws_key", "outbound_delivery",
                    ["workspace_id", "key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbound_delivery_ws_key", table_name="outbound_delivery")
    op.drop_table("outbound_delivery")
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("outbound_webhook_secret_encrypted")
        batch_op.drop_column("outbound_webhook_url")
