"""deployment API base

The Stripe API base is the deployment's (`REVSYNC_STRIPE_API_BASE`), never a
workspace's: a workspace that could name it could have the workers send its Stripe key,
or the platform's, to any address they reach. The workspace column goes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("workspace", "api_base")


def downgrade() -> None:
    op.add_column("workspace", sa.Column("api_base", sa.String(length=500), nullable=True))
