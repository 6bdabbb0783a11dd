"""transition tags after: the Stripe-managed tags a subscriber holds after a transition

Triggers such as "trial converted" (trial removed while a customer) or "recovered"
(past-due removed while still a customer) need the tags the subscriber keeps, not only
the ones a transition added or removed. Rows recorded before this revision keep NULL;
the triggers then read what the transition added.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags_after", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriber_transition", schema=None) as batch_op:
        batch_op.drop_column("tags_after")
