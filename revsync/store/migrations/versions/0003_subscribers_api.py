"""subscribers API

Subscribers come in and out over the JSON API (`revsync.web.subscribers_api`):

* `subscriber.external_id`: the host platform's own id of a subscriber, unique in its
  workspace when set (a unique index: NULLs never collide, on both databases);
* `subscriber.version` and `mrr_changed_at`, `ltv_changed_at`, `tags_changed_at`: written
  by `revsync.subscribers.changes` with each derivation that changes them, so a reader can
  tell which values it has already seen;
* `email_event.event_id`: the host's id of an engagement event, unique in the workspace,
  so a redelivered event is a duplicate;
* `api_idempotency_key`: the answer to each request made with an `Idempotency-Key`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGED_AT = ("mrr_changed_at", "ltv_changed_at", "tags_changed_at")


def upgrade() -> None:
    op.add_column("subscriber", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column("subscriber", sa.Column("version", sa.Integer(), nullable=False,
                                          server_default="0"))
    for column in CHANGED_AT:
        op.add_column("subscriber", sa.Column(column, sa.DateTime(timezone=True),
                                              nullable=True))
    op.create_index("ix_subscriber_ws_external_id", "subscriber",
                    ["workspace_id", "external_id"], unique=True)
    op.add_column("email_event", sa.Column("event_id", sa.String(length=255), nullable=True))
    op.create_index("ix_email_event_ws_event_id", "email_event", ["workspace_id", "event_id"],
                    unique=True)
    op.create_table(
        "api_idempotency_key",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("workspace_id", "key"),
    )
    op.create_index("ix_api_idempotency_key_created_at", "api_idempotency_key",
                    ["created_at"])


def downgrade() -> None:
    """SQLite (3.35 and later) drops a column in place once no index names it."""
    op.drop_index("ix_api_idempotency_key_created_at", "api_idempotency_key")
    op.drop_table("api_idempotency_key")
    op.drop_index("ix_email_event_ws_event_id", "email_event")
    op.drop_column("email_event", "event_id")
    op.drop_index("ix_subscriber_ws_external_id", "subscriber")
    for column in ("external_id", "version", *CHANGED_AT):
        op.drop_column("subscriber", column)
