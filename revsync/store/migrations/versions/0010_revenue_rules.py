"""revenue rules: a workspace's own automation rules (trigger, condition, action)

One row per rule; the whole rule is one JSON document (`definition`), with its name
(unique in the workspace) and whether it is on as columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revenue_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_index(op.f("ix_revenue_rule_workspace_id"), "revenue_rule", ["workspace_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_revenue_rule_workspace_id"), table_name="revenue_rule")
    op.drop_table("revenue_rule")
