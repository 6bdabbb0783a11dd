"""Database tables. Every row belongs to a workspace; every query filters on it.

Mirror tables (`stripe_*`) hold a slim projection of each Stripe object in `data`
plus the columns the sync queries on. `fetched_at` is when the row's content was
read from Stripe: an upsert never replaces a fresher read (the monotonic guard).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# Change-feed positions (a transition's id, and the columns naming one) are 64-bit on
# PostgreSQL: every matched subscriber's first sync writes one, across every workspace.
# SQLite's INTEGER is 64-bit already, and only INTEGER makes its key an autoincrementing
# rowid.
POSITION = BigInteger().with_variant(Integer(), "sqlite")

# Stripe allows 512-character emails and case folding can lengthen them (ß -> ss).
EMAIL_NORM_LENGTH = 1024
EXTERNAL_ID_LENGTH = 255  # the host platform's own subscriber id


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the tables use."""
    return datetime.now(UTC)


class Workspace(SQLModel, table=True):
    """A tenant: one email-platform account connected to one Stripe account."""

    __tablename__ = "workspace"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    # Its own Stripe key, encrypted; a Stripe Connect workspace has none and holds the
    # encrypted empty value (`workspaces.CONNECT_KEY`). None: not connected.
    stripe_key_encrypted: str | None = None
    products: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sync_without_payment: bool = False
    metadata_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reporting_currency: str = Field(default="usd", max_length=3)
    fx_rates: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mrr_statuses: list[str] = Field(
        default_factory=lambda: ["active", "trialing"], sa_column=Column(JSON, nullable=False)
    )
    # Products whose subscription/payment events update subscribers (subset of products).
    watch_products: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Fernet tokens of the webhook signing secrets; several while a secret is rotated.
    webhook_secrets_encrypted: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    webhook_endpoint_id: str | None = Field(default=None, max_length=255)
    # The host platform's endpoint for rule webhooks, its secret encrypted.
    outbound_webhook_url: str | None = Field(default=None, max_length=500)
    outbound_webhook_secret_encrypted: str | None = None
    # Stripe Connect: the connected account (`Stripe-Account`) the platform key reads.
    stripe_account: str | None = Field(default=None, max_length=255)
    # The Stripe account whose rate limits the workspace's requests count against: the
    # key's own account (read at connect) or the connected account (OAuth).
    stripe_account_id: str | None = Field(default=None, max_length=255, index=True)
    # A live key (sk_live_, rk_live_, or a live OAuth grant): a larger default budget.
    stripe_livemode: bool = False
    # Share of the fleet and of the Stripe budget against workspaces of other accounts
    # (1.0 = equal); workspaces sharing an account share the largest of their weights.
    budget_weight: float = 1.0
    # Set once the default segments exist, so a deleted default is never re-created.
    default_segments_created: bool = False
    default_rules_created: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Subscriber(SQLModel, table=True):
    """An email-platform subscriber; `mrr`, `ltv` and `stripe_metadata` are Stripe-managed."""

    __tablename__ = "subscriber"
    __table_args__ = (
        UniqueConstraint("workspace_id", "email_norm"),
        # Segments: revenue ranges with the tag bits beside them (index-only counts);
        # `id` next, so an equality on the revenue walks in id order, as a page of
        # members is read.
        Index("ix_subscriber_ws_mrr", "workspace_id", "mrr", "id", "tag_bits"),
        Index("ix_subscriber_ws_ltv", "workspace_id", "ltv", "id", "tag_bits"),
        # ... and MRR with the latest events (`mrr >= 50 AND opened_emails_last_30_days
        # = 0`); `id` for the fall-back to the events of a latest event after `now`.
        Index("ix_subscriber_ws_mrr_latest", "workspace_id", "mrr", "last_opened_at",
              "last_clicked_at", "id"),
        Index("ix_subscriber_metadata", "stripe_metadata", postgresql_using="gin",
              postgresql_ops={"stripe_metadata": "jsonb_path_ops"}).ddl_if(
                  dialect="postgresql"),
        # The host's own id, unique in the workspace when set (NULLs never collide).
        Index("ix_subscriber_ws_external_id", "workspace_id", "external_id", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    email: str = Field(max_length=320)
    email_norm: str = Field(max_length=EMAIL_NORM_LENGTH)
    external_id: str | None = Field(default=None, max_length=EXTERNAL_ID_LENGTH)
    attributes: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mrr: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2), nullable=True))
    ltv: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2), nullable=True))
    stripe_metadata: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                               nullable=False)
    )
    stripe_customer_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    unsubscribed: bool = False  # set by the host platform; stops win-back sequences
    # One bit per Stripe-managed tag held from any source (revsync.segments.tag_bits),
    # written only by the database's triggers on subscriber_tag: never set it here.
    tag_bits: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                      server_default="0"))
    # The time of the latest email event of each kind, any age (None without one),
    # written only by the database's triggers on email_event: never set them here.
    last_opened_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    last_clicked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # Grows by one with each derivation that changes mrr, ltv, tags or metadata
    # (`subscribers.changes`), so a reader of the API can tell a value it has seen.
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False,
                                                     server_default="0"))
    mrr_changed_at: datetime | None = None
    ltv_changed_at: datetime | None = None
    tags_changed_at: datetime | None = None  # the Stripe-managed tags
    updated_at: datetime = Field(default_factory=utcnow)


class SubscriberTag(SQLModel, table=True):
    """A tag on a subscriber. `source='stripe'` rows are the sync's; others are never touched."""

    __tablename__ = "subscriber_tag"
    __table_args__ = (Index("ix_subscriber_tag_ws_tag", "workspace_id", "tag"),)
    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=100)
    source: str = Field(primary_key=True, max_length=20)
    workspace_id: int = Field(foreign_key="workspace.id")


class SubscriberMetadata(SQLModel, table=True):
    """One key of `subscriber.stripe_metadata`, so a segment on a metadata key reads an
    index instead of every subscriber's JSON. Written only by the database's triggers
    on `subscriber` (migration 0008), so every writer of metadata is covered: never
    write it here. `number` is the value when it is a plain decimal (the segment
    parser's number rule), else NULL. No foreign key: the rows come and go with their
    subscriber's row in the same statement, and a key check per row would only slow the
    bulk writes that fill it."""

    __tablename__ = "subscriber_metadata"
    __table_args__ = (
        Index("ix_subscriber_metadata_ws_key_value", "workspace_id", "key", "value",
              "subscriber_id"),
        Index("ix_subscriber_metadata_ws_key_number", "workspace_id", "key", "number",
              "subscriber_id"),
        # SQLite: clustered on the key, so the per-subscriber probe reads one b-tree.
        {"sqlite_with_rowid": False},
    )
    subscriber_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    key: str = Field(primary_key=True)
    workspace_id: int
    value: str
    number: Decimal | None = Field(default=None, sa_column=Column(Numeric(), nullable=True))


class MirrorRow(SQLModel):
    """Columns shared by every Stripe mirror table."""

    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    id: str = Field(primary_key=True, max_length=255)
    created: int = Field(default=0, sa_type=BigInteger)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    fetched_at: float = 0.0
    seen_run: int | None = None  # the last full sync that listed this object


class StripeCustomer(MirrorRow, table=True):
    __tablename__ = "stripe_customer"
    __table_args__ = (Index("ix_stripe_customer_ws_email", "workspace_id", "email_norm"),)
    email_norm: str | None = Field(default=None, max_length=EMAIL_NORM_LENGTH)
    deleted: bool = False


class StripeSubscription(MirrorRow, table=True):
    __tablename__ = "stripe_subscription"
    __table_args__ = (Index("ix_stripe_subscription_ws_customer", "workspace_id", "customer"),)
    customer: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, max_length=40)


class StripeCharge(MirrorRow, table=True):
    __tablename__ = "stripe_charge"
    __table_args__ = (Index("ix_stripe_charge_ws_customer", "workspace_id", "customer"),)
    customer: str | None = Field(default=None, max_length=255)


class StripeInvoice(MirrorRow, table=True):
    __tablename__ = "stripe_invoice"
    __table_args__ = (Index("ix_stripe_invoice_ws_customer", "workspace_id", "customer"),)
    customer: str | None = Field(default=None, max_length=255)


class StripePrice(MirrorRow, table=True):
    __tablename__ = "stripe_price"


class StripeCoupon(MirrorRow, table=True):
    __tablename__ = "stripe_coupon"


class StripeProduct(MirrorRow, table=True):
    __tablename__ = "stripe_product"


class SyncRun(SQLModel, table=True):
    """One full sync, whatever number of continue-as-new runs it took."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_ws_started", "workspace_id", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    workflow_id: str = Field(max_length=255)
    run_key: str = Field(unique=True, max_length=255)
    status: str = Field(default="running", max_length=20)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    requests: int = 0
    min_requests: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None


class StreamCheckpoint(SQLModel, table=True):
    """The durable cursor of one stream of one sync, committed with the page it follows."""

    __tablename__ = "stream_checkpoint"
    sync_run_id: int = Field(foreign_key="sync_run.id", primary_key=True)
    stream: str = Field(primary_key=True, max_length=40)
    pages: int = 0
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Every Stripe request of the stream, counted (and committed) before it is sent, so
    # the one in flight when a worker dies is counted too.
    requests_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class DeriveCheckpoint(SQLModel, table=True):
    """Where one derive activity got to and what it counted, committed with each batch,
    so a retry after a kill resumes there with the counts intact."""

    __tablename__ = "derive_checkpoint"
    key: str = Field(primary_key=True, max_length=400)  # workflow id/run id/activity id
    cursor: int = 0
    done: bool = False
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempt: int = 1  # the activity attempt that wrote it: an older one still running stops
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class StripeEvent(SQLModel, table=True):
    """A webhook event whose effects were applied: the exactly-once guard.

    Written in the same transaction as the subscriber changes the event caused, so a
    redelivery (after Temporal's retention forgot the workflow id) changes nothing.
    """

    __tablename__ = "stripe_event"
    __table_args__ = (Index("ix_stripe_event_ws_created", "workspace_id", "created"),)
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    created: int = Field(default=0, sa_type=BigInteger)
    outcome: str = Field(max_length=40)  # applied | not_watched
    subscribers: int = 0
    applied_at: datetime = Field(default_factory=utcnow)


class SubscriberTransition(SQLModel, table=True):
    """What one event, sync or subscriber write changed on one subscriber: an entry of the
    change feed (its position is the id, see `revsync.feed`) and the input of automations.
    """

    __tablename__ = "subscriber_transition"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source_id", "subscriber_id"),
        Index("ix_subscriber_transition_ws_id", "workspace_id", "id"),
    )
    id: int | None = Field(default=None, sa_column=Column(POSITION, primary_key=True))
    workspace_id: int = Field(foreign_key="workspace.id")
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    source_id: str = Field(max_length=255)  # the event id, or the sync run key
    tags_added: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags_removed: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The Stripe-managed tags held after it; NULL: not recorded, so the triggers read
    # what the transition added.
    tags_after: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    mrr_before: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    mrr_after: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    ltv_before: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    ltv_after: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    metadata_before: dict[str, str] = Field(default_factory=dict,
                                            sa_column=Column(JSON, nullable=False))
    metadata_after: dict[str, str] = Field(default_factory=dict,
                                           sa_column=Column(JSON, nullable=False))
    # A subscriber's starting values (a first sync, a first match, a new address, an
    # option change), not a change of its revenue: in the feed, but recorded as handed
    # to the automations already, so it starts nothing.
    silent: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    dispatched_at: datetime | None = None  # handed to the automations


class SinkCursor(SQLModel, table=True):
    """How far the platform's change sink has acknowledged a workspace's feed."""

    __tablename__ = "sink_cursor"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class Segment(SQLModel, table=True):
    """A saved segment expression (see `revsync.segments`)."""

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=200)
    expression: str = Field(max_length=2000)
    default_key: str | None = Field(default=None, max_length=40)  # which default it began as
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EmailEvent(SQLModel, table=True):
    """An email the host platform saw opened or clicked (engagement counts in segments)."""

    __tablename__ = "email_event"
    __table_args__ = (
        Index("ix_email_event_ws_kind_time_sub", "workspace_id", "kind", "occurred_at",
              "subscriber_id"),
        Index("ix_email_event_sub_kind_time", "subscriber_id", "kind", "occurred_at"),
        Index("ix_email_event_ws_event_id", "workspace_id", "event_id", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    subscriber_id: int = Field(foreign_key="subscriber.id")
    kind: str = Field(max_length=10)  # open | click
    occurred_at: datetime
    # The host's id of the event (API imports): a second delivery of it is a duplicate.
    event_id: str | None = Field(default=None, max_length=255)


class AutomationRule(SQLModel, table=True):
    """A workspace's own automation rule: trigger, condition and action, as one document
    (`revsync.automations.definitions`); name and enabled are columns to look them up.
    `default_key` names the default a rule was created as (win_back, thank_you,
    team_alert; `automations.defaults`), so `automations set` can find it."""

    __tablename__ = "automation_rule"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),
                      Index("ix_automation_rule_ws_default_key", "workspace_id", "default_key",
                            unique=True))
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=100)
    enabled: bool = True
    default_key: str | None = Field(default=None, max_length=40)
    definition: dict[str, Any] = Field(default_factory=dict,
                                       sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RuleOutcome(SQLModel, table=True):
    """What one step of a workspace rule did for a subscriber: sent, or why not
    (condition false, unsubscribed, ...); `explain` shows it per transition."""

    __tablename__ = "rule_outcome"
    __table_args__ = (Index("ix_rule_outcome_ws_transition", "workspace_id", "transition_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    rule_id: int
    subscriber_id: int
    transition_id: int = Field(sa_column=Column(POSITION, nullable=False))
    step: int
    outcome: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class OutboundDelivery(SQLModel, table=True):
    """One attempt to POST a rule's webhook to the host platform, as it went."""

    __tablename__ = "outbound_delivery"
    __table_args__ = (Index("ix_outbound_delivery_ws_key", "workspace_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    key: str = Field(max_length=255)  # the Idempotency-Key: rule, subscriber, transition, step
    rule_id: int
    subscriber_id: int
    transition_id: int = Field(sa_column=Column(POSITION, nullable=False))
    attempt: int
    status_code: int | None = None
    error: str = Field(default="", max_length=500)
    delivered: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class AutomationFire(SQLModel, table=True):
    """An automation fired for a subscriber (thank-you: once per threshold, ever)."""

    __tablename__ = "automation_fire"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    automation: str = Field(primary_key=True, max_length=40)
    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=100)
    transition_id: int | None = Field(default=None, sa_column=Column(POSITION, nullable=True))
    fired_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """Every email, written before it is sent; the idempotency key makes a retry a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    idempotency_key: str = Field(max_length=255)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(max_length=500)
    body: str
    status: str = Field(default="pending", max_length=20)  # pending | sent | printed
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class IdempotencyKey(SQLModel, table=True):
    """An API request made with an `Idempotency-Key`: what it answered, written in the
    transaction of its work, so a retry with the same key and body gets the same answer
    without doing the work again (`revsync.web.idempotency`)."""

    __tablename__ = "api_idempotency_key"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    route: str = Field(max_length=100)
    body_sha256: str = Field(max_length=64)
    status: int
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CustomerLink(SQLModel, table=True):
    """Which subscriber a Stripe customer's revenue was last written to.

    An email change moves a customer to another subscriber; the link finds the one it
    must leave, whose email the event no longer carries.
    """

    __tablename__ = "stripe_customer_link"
    workspace_id: int = Field(foreign_key="workspace.id", primary_key=True)
    customer_id: str = Field(primary_key=True, max_length=255)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)



class ApiKey(SQLModel, table=True):
    """A key of one workspace's JSON API (`revsync.credentials.api_keys`). Only the
    SHA-256 of the secret is kept; `prefix` is the part shown in lists, to tell keys
    apart. `scope` is read (GET only) or write; a revoked key stays listed."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    name: str = Field(max_length=100)
    scope: str = Field(max_length=10)
    prefix: str = Field(max_length=16)
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class EmbedSession(SQLModel, table=True):
    """A single-use link signing a browser in to one workspace's settings page
    (`revsync.credentials.embed`): the token's SHA-256, who it is for, until when, and
    when it was used (set once, by whichever process opened it first)."""

    __tablename__ = "embed_session"
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    user: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    consumed_at: datetime | None = None

class PageSession(SQLModel, table=True):
    """A browser signed in to the settings page (`revsync.credentials.page_sessions`):
    its cookie carries only the id, whose SHA-256 is kept here, so signing out (or the
    end of its lifetime) refuses every copy of that cookie, a stolen one included."""

    __tablename__ = "page_session"
    id: int | None = Field(default=None, primary_key=True)
    sid_hash: str = Field(max_length=64, unique=True)
    access: str = Field(max_length=100)  # a workspace name, or * for the platform key
    user: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None


MIRROR_TABLES: dict[str, type[MirrorRow]] = {
    "customers": StripeCustomer,
    "subscriptions": StripeSubscription,
    "charges": StripeCharge,
    "invoices": StripeInvoice,
    "prices": StripePrice,
    "coupons": StripeCoupon,
    "products": StripeProduct,
}


def exists_on(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` hook: an index declared for one database only
    (`Index.ddl_if(dialect=...)`, such as the JSONB GIN index) is not compared on the
    others, where no migration creates it."""
    def include(obj: object, name: str | None, type_: str, reflected: bool,
                compare_to: object) -> bool:
        only = getattr(obj, "_ddl_if", None)  # SQLAlchemy keeps ddl_if's arguments here
        return only is None or getattr(only, "dialect", None) in (None, dialect)
    return include
