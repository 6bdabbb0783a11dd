"""initial schema

Every table, index and constraint of the models, the triggers that keep
`subscriber.tag_bits` in step with `subscriber_tag`, and on PostgreSQL `stripe_metadata`
as JSONB with a GIN index.

`subscriber.tag_bits` holds one bit per Stripe-managed tag the subscriber has from any
source; triggers on `subscriber_tag` keep it, so every writer of tags is covered. With it
a segment such as `tag = churned AND ltv > 500` reads one index,
`(workspace_id, ltv, tag_bits)`, instead of a subquery per subscriber. The GIN index makes
`plan = enterprise` an index lookup (`@>`) rather than a scan of every row's JSON.

Revision ID: 0001
Revises:
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tags the triggers write as bits: a copy of revsync.segments.tag_bits.TAG_BITS, as
# a revision must not change when the code does. A new tag takes a revision that
# rewrites the triggers (tests/store/test_tag_bits.py compares the two).
TAG_BITS = {"customer": 1, "trial": 2, "past-due": 4, "cancelled": 8, "churned": 16,
            "saas.monthly": 32, "saas.yearly": 64}
TRIGGERS = ("subscriber_tag_bits_insert", "subscriber_tag_bits_delete",
            "subscriber_tag_bits_update")
# Each Stripe mirror table and the columns it has besides those they all have.
MIRRORS: dict[str, tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...]] = {
    "stripe_charge": (("customer", sa.String(length=255), True),),
    "stripe_coupon": (),
    "stripe_customer": (("email_norm", sa.String(length=1024), True),
                        ("deleted", sa.Boolean(), False)),
    "stripe_invoice": (("customer", sa.String(length=255), True),),
    "stripe_price": (),
    "stripe_product": (),
    "stripe_subscription": (("customer", sa.String(length=255), True),
                            ("status", sa.String(length=40), True)),
}


def _workspace_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"])


def _subscriber_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"])


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("stripe_key_encrypted", sa.String(), nullable=True),
        sa.Column("api_base", sa.String(length=500), nullable=True),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("sync_without_payment", sa.Boolean(), nullable=False),
        sa.Column("metadata_keys", sa.JSON(), nullable=False),
        sa.Column("reporting_currency", sa.String(length=3), nullable=False),
        sa.Column("fx_rates", sa.JSON(), nullable=False),
        sa.Column("mrr_statuses", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watch_products", sa.JSON(), nullable=False,
                  server_default=sa.text("'[]'")),
        sa.Column("webhook_secrets_encrypted", sa.JSON(), nullable=False,
                  server_default=sa.text("'[]'")),
        sa.Column("webhook_endpoint_id", sa.String(length=255), nullable=True),
        sa.Column("default_segments_created", sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.Column("stripe_account", sa.String(length=255), nullable=True),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=True),
        sa.Column("stripe_livemode", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("budget_weight", sa.Float(), nullable=False, server_default="1.0"),
        sa.Column("outbound_webhook_url", sa.String(length=500), nullable=True),
        sa.Column("outbound_webhook_secret_encrypted", sa.String(), nullable=True),
        sa.Column("default_rules_created", sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_workspace_stripe_account_id", "workspace", ["stripe_account_id"])

    for name, own in MIRRORS.items():
        op.create_table(
            name,
            sa.Column("workspace_id", sa.Integer(), nullable=False),
            sa.Column("id", sa.String(length=255), nullable=False),
            sa.Column("created", sa.BigInteger(), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.Column("fetched_at", sa.Float(), nullable=False),
            sa.Column("seen_run", sa.Integer(), nullable=True),
            *(sa.Column(column, kind, nullable=nullable) for column, kind, nullable in own),
            _workspace_fk(),
            sa.PrimaryKeyConstraint("workspace_id", "id"),
        )
    op.create_index("ix_stripe_charge_ws_customer", "stripe_charge", ["workspace_id", "customer"])
    op.create_index("ix_stripe_customer_ws_email", "stripe_customer",
                    ["workspace_id", "email_norm"])
    op.create_index("ix_stripe_invoice_ws_customer", "stripe_invoice",
                    ["workspace_id", "customer"])
    op.create_index("ix_stripe_subscription_ws_customer", "stripe_subscription",
                    ["workspace_id", "customer"])

    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_norm", sa.String(length=1024), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("mrr", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("ltv", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("stripe_metadata", postgresql.JSONB() if postgres else sa.JSON(),
                  nullable=False),
        sa.Column("stripe_customer_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("tag_bits", sa.Integer(), nullable=False, server_default="0"),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "email_norm"),
    )
    op.create_index("ix_subscriber_workspace_id", "subscriber", ["workspace_id"])
    op.create_index("ix_subscriber_ws_mrr", "subscriber", ["workspace_id", "mrr", "tag_bits"])
    op.create_index("ix_subscriber_ws_ltv", "subscriber", ["workspace_id", "ltv", "tag_bits"])
    if postgres:
        op.create_index("ix_subscriber_metadata", "subscriber", ["stripe_metadata"],
                        postgresql_using="gin",
                        postgresql_ops={"stripe_metadata": "jsonb_path_ops"})

    op.create_table(
        "subscriber_tag",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        _subscriber_fk(),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("subscriber_id", "tag", "source"),
    )
    op.create_index("ix_subscriber_tag_ws_tag", "subscriber_tag", ["workspace_id", "tag"])
    if postgres:
        _postgresql_triggers()
    else:
        _sqlite_triggers()

    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=False),
        sa.Column("run_key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("min_requests", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_key"),
    )
    op.create_index("ix_sync_run_ws_started", "sync_run", ["workspace_id", "started_at"])

    op.create_table(
        "stream_checkpoint",
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("requests_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["sync_run_id"], ["sync_run.id"]),
        sa.PrimaryKeyConstraint("sync_run_id", "stream"),
    )

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
    op.create_index("ix_derive_checkpoint_updated_at", "derive_checkpoint", ["updated_at"])

    op.create_table(
        "stripe_event",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("workspace_id", "id"),
    )
    op.create_index("ix_stripe_event_ws_created", "stripe_event", ["workspace_id", "created"])

    op.create_table(
        "stripe_customer_link",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        _subscriber_fk(),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("workspace_id", "customer_id"),
    )
    op.create_index("ix_stripe_customer_link_subscriber_id", "stripe_customer_link",
                    ["subscriber_id"])

    op.create_table(
        "subscriber_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("tags_added", sa.JSON(), nullable=False),
        sa.Column("tags_removed", sa.JSON(), nullable=False),
        sa.Column("mrr_before", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("mrr_after", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("ltv_before", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("ltv_after", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags_after", sa.JSON(), nullable=True),
        _subscriber_fk(),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "source_id", "subscriber_id"),
    )
    op.create_index("ix_subscriber_transition_subscriber_id", "subscriber_transition",
                    ["subscriber_id"])
    op.create_index("ix_subscriber_transition_ws_id", "subscriber_transition",
                    ["workspace_id", "id"])

    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("expression", sa.String(length=2000), nullable=False),
        sa.Column("default_key", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_index("ix_segment_workspace_id", "segment", ["workspace_id"])

    op.create_table(
        "email_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        _subscriber_fk(),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_email_event_sub_kind_time", "email_event",
                    ["subscriber_id", "kind", "occurred_at"])
    op.create_index("ix_email_event_ws_kind_time_sub", "email_event",
                    ["workspace_id", "kind", "occurred_at", "subscriber_id"])

    op.create_table(
        "automation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("default_key", sa.String(length=40), nullable=True),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name"),
    )
    op.create_index("ix_automation_rule_workspace_id", "automation_rule", ["workspace_id"])
    op.create_index("ix_automation_rule_ws_default_key", "automation_rule",
                    ["workspace_id", "default_key"], unique=True)

    op.create_table(
        "rule_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_outcome_ws_transition", "rule_outcome",
                    ["workspace_id", "transition_id"])

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
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbound_delivery_ws_key", "outbound_delivery", ["workspace_id", "key"])

    op.create_table(
        "automation_fire",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("automation", sa.String(length=40), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        _subscriber_fk(),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("workspace_id", "automation", "subscriber_id", "key"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _workspace_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
    )
    op.create_index("ix_outbox_workspace_id", "outbox", ["workspace_id"])


def _bit_of(column: str) -> str:
    cases = " ".join(f"WHEN '{tag}' THEN {bit}" for tag, bit in TAG_BITS.items())
    return f"CASE {column} {cases} ELSE 0 END"


def _bits_of(subscriber: str) -> str:
    """The OR of a subscriber's tag bits; bits are distinct powers of two, so the sum of
    the distinct ones is their OR (SQLite has no bitwise aggregate)."""
    return (f"(SELECT COALESCE(SUM(DISTINCT {_bit_of('tag')}), 0) FROM subscriber_tag "
            f"WHERE subscriber_id = {subscriber})")


def _refresh(subscriber: str) -> str:
    return f"UPDATE subscriber SET tag_bits = {_bits_of(subscriber)} WHERE id = {subscriber};"


def _sqlite_triggers() -> None:
    known = "(" + ", ".join(f"'{tag}'" for tag in TAG_BITS) + ")"
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_insert AFTER INSERT ON subscriber_tag "
               f"WHEN NEW.tag IN {known} BEGIN {_refresh('NEW.subscriber_id')} END")
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_delete AFTER DELETE ON subscriber_tag "
               f"WHEN OLD.tag IN {known} BEGIN {_refresh('OLD.subscriber_id')} END")
    op.execute(f"CREATE TRIGGER subscriber_tag_bits_update AFTER UPDATE ON subscriber_tag "
               f"BEGIN {_refresh('OLD.subscriber_id')} {_refresh('NEW.subscriber_id')} END")


def _postgresql_triggers() -> None:
    op.execute(f"""
        CREATE FUNCTION subscriber_tag_bits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN {_refresh('OLD.subscriber_id')} END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {_refresh('NEW.subscriber_id')} END IF;
            RETURN NULL;
        END $$""")
    for name, event in zip(TRIGGERS, ("INSERT", "DELETE", "UPDATE"), strict=True):
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON subscriber_tag FOR EACH ROW "
                   f"EXECUTE FUNCTION subscriber_tag_bits()")


def downgrade() -> None:
    for name in ("outbox", "automation_fire", "outbound_delivery", "rule_outcome",
                 "automation_rule", "email_event", "segment",
                 "subscriber_transition", "stripe_customer_link", "stripe_event",
                 "derive_checkpoint", "stream_checkpoint", "sync_run"):
        op.drop_table(name)
    if op.get_context().dialect.name == "postgresql":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON subscriber_tag")
        op.execute("DROP FUNCTION subscriber_tag_bits()")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    for name in ("subscriber_tag", "subscriber", *MIRRORS, "workspace"):
        op.drop_table(name)
