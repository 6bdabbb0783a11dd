"""subscriber revenue indexes: segments on mrr and ltv read an index range, not the table

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_subscriber_ws_mrr", "subscriber", ["workspace_id", "mrr"])
    op.create_index("ix_subscriber_ws_ltv", "subscriber", ["workspace_id", "ltv"])


def downgrade() -> None:
    op.drop_index("ix_subscriber_ws_ltv", table_name="subscriber")
    op.drop_index("ix_subscriber_ws_mrr", table_name="subscriber")
