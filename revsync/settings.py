"""Process settings, read from the environment and `.env`.

Temporal connection settings are deliberately absent: they follow Temporal's own
convention (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, TLS variables,
`temporal.toml` profiles) and are read by `revsync.temporal_client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from revsync.subscribers.addresses import exact_email

MIN_PLATFORM_KEY = 16
STRIPE_API_BASE = "https://api.stripe.com"


class Settings(BaseSettings):
    """Everything a worker or the starter needs besides the Temporal connection."""

    model_config = SettingsConfigDict(
        env_prefix="REVSYNC_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        validate_by_name=True,
    )

    data_dir: Path = Field(
        default=Path(".revsync"),
        description="Where the embedded defaults keep files (SQLite, dev server, key).",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "REVSYNC_DATABASE_URL"),
        description="SQLAlchemy URL; default is a SQLite file in data_dir.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Fernet key encrypting stored Stripe keys; default: a key file in data_dir.",
    )
    task_queue: str = "revsync"
    stripe_task_queue: str = Field(
        default="revsync-stripe",
        description="Every Stripe-calling activity runs here, so one rate budget covers them.",
    )
    stripe_requests_per_second: float = Field(
        default=10.0,
        gt=0,
        le=100,
        description="Full-sync budget per Stripe account with a test-mode key, enforced by "
        "Temporal for the whole fleet (Stripe allows 25/s in test mode).",
    )
    stripe_live_requests_per_second: float = Field(
        default=20.0,
        gt=0,
        le=100,
        description="Full-sync budget per Stripe account with a live key (Stripe allows "
        "100/s, 25/s per endpoint); the rest is the merchant's own.",
    )
    stripe_budget_scope: Literal["auto", "account", "fleet"] = Field(
        default="auto",
        description="account: one budget per Stripe account (Temporal task queue fairness); "
        "fleet: one budget for every account together; auto: account where the server "
        "takes the task queue config, else fleet.",
    )
    stripe_fleet_requests_per_second: float = Field(
        default=10.0,
        gt=0,
        le=1000,
        description="The fleet scope's budget, shared by every workspace.",
    )
    stripe_task_queue_partitions: int = Field(
        default=4, ge=1, le=1024,
        description="Partitions of the Stripe task queues (Temporal's "
        "matching.numTaskqueueReadPartitions, 4 unless the cluster sets it). Each partition "
        "holds its share of an account's rate, so a sync keeps tasks waiting in each.",
    )
    stripe_worker_pollers: int = Field(
        default=16, ge=1, le=256,
        description="Activity task polls a Stripe worker keeps open (the SDK's default is 5), "
        "so every partition of the queue has one waiting when the rate frees a task.",
    )
    stripe_worker_threads: int = Field(
        default=64, ge=1, le=512,
        description="Concurrent Stripe activities per worker; they wait on the network.",
    )
    pages_per_activity: int = Field(
        default=3, ge=1, le=50,
        description="Stripe requests per full-sync activity (list pages, and the pages "
        "that complete their objects' nested lists). Each activity is a billed Temporal "
        "action, so more pages cost fewer actions; but Temporal's per-key rate limit uses a "
        "low activity rate less fully (bench/README.md has both sides measured), so keep "
        "the budget divided by this at 3 activities/s or more.",
    )
    stripe_max_retries: int = Field(default=8, ge=0, le=20)
    stripe_events_task_queue: str = Field(
        default="revsync-stripe-events",
        description="Refetches for webhook events: their own queue, so a running full sync "
        "never delays live updates.",
    )
    stripe_event_requests_per_second: float = Field(
        default=10.0,
        gt=0,
        le=100,
        description="Webhook refetch budget per Stripe account (per fleet in the fleet "
        "scope), on top of the sync's.",
    )
    temporal_ui_url: str | None = Field(
        default=None, description="Temporal Web UI base, for links (the embedded server's "
        "is known without it)."
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    webhook_max_body_bytes: int = Field(
        default=512 * 1024, ge=1024, description="Larger webhook bodies are refused (413)."
    )
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    platform_key: SecretStr | None = Field(
        default=None,
        description="The host platform's key: bearer token of every workspace's JSON API "
        "(/api/...), the only one that mints workspace API keys and embed links, and the "
        "settings page's sign-in for platform operators; unset: the API and the page "
        "answer 503.",
    )
    embed_link_minutes: int = Field(
        default=5, ge=1, le=60,
        description="How long an embed link (a single-use sign-in to one workspace's "
        "settings page) stays valid; short, as it travels in a URL.",
    )
    embed_frame_ancestors: str = Field(
        default="'self'", min_length=1, max_length=2000, pattern=r"^[^;,\r\n]+$",
        description="The settings page's Content-Security-Policy frame-ancestors: the "
        "origins that may show it in a frame (the host platform's UI, space-separated).",
    )
    feed_retention_days: int = Field(
        default=30, ge=1, le=3650,
        description="How long change-feed entries are kept; a feed cursor older than this "
        "is refused (410) and the reader re-reads the subscriber list.",
    )
    sink_activity: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Name of an activity on the platform's own workers that receives "
        "each workspace's changes in batches; unset: no sink.",
    )
    sink_task_queue: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The task queue of the platform's workers that run the sink activity.",
    )
    sink_batch_size: int = Field(
        default=100, ge=1, le=1000,
        description="Changes handed to the sink activity per call.",
    )
    sink_timeout_seconds: int = Field(
        default=60, ge=1, le=3600,
        description="How long one call of the sink activity may take before Temporal "
        "tries it again (a worker that died mid-call is noticed after this long).",
    )
    sign_in_max_failures: int = Field(
        default=10, ge=1, le=1000,
        description="Failed sign-ins (platform key form, embed links) one client address "
        "may make in sign_in_window_seconds; then every sign-in from it answers 429 until "
        "the oldest failure leaves the window.",
    )
    sign_in_window_seconds: int = Field(default=600, ge=1, le=86_400)
    segment_max_subqueries: int = Field(
        default=20, ge=1, le=200,
        description="Comparisons one segment expression may make that the database runs "
        "as a subquery per subscriber (engagement counts, tags other than the Stripe-managed "
        "ones); an expression with more is refused wherever it is given.",
    )
    segment_statement_seconds: float = Field(
        default=10.0, gt=0, le=600,
        description="The longest one segment query (a count, a page of members, a rule's "
        "condition) may run before the database stops it and the request is refused.",
    )
    max_segments_per_workspace: int = Field(
        default=200, ge=1, le=100_000,
        description="Saved segments one workspace may have; creating one more is refused.",
    )
    max_rules_per_workspace: int = Field(
        default=200, ge=1, le=100_000,
        description="Automation rules one workspace may have; each is read for every "
        "transition dispatched, so creating one more is refused.",
    )
    stripe_connect_client_id: str | None = Field(
        default=None, description="Stripe Connect (OAuth) client id, ca_...; unset hides it."
    )
    stripe_platform_key: SecretStr | None = Field(
        default=None, description="The platform's secret key: exchanges OAuth codes and "
        "reads connected accounts with the Stripe-Account header (read from here for each "
        "request; never stored)."
    )
    stripe_connect_webhook_secret: SecretStr | None = Field(
        default=None, description="Signing secret of the platform's one Connect webhook "
        "endpoint (comma-separated while rotating); unset: /webhooks/stripe/connect answers "
        "404."
    )
    stripe_connect_base: str = "https://connect.stripe.com"
    stripe_api_base: str = Field(
        default=STRIPE_API_BASE, description="The Stripe API every workspace is read from, "
        "with its own key or the platform's. A deployment's choice, never a workspace's: "
        "the workers send Stripe keys there."
    )
    public_url: str | None = Field(
        default=None, description="The app's public base URL (https://revsync.example.com): "
        "Stripe Connect sends the browser back to its /stripe/oauth/callback. Never taken "
        "from a request's Host header, which the client chooses."
    )
    smtp_host: str | None = Field(
        default=None, description="Unset: emails stay in the outbox (`starter.py outbox`)."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = Field(default="revsync@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    team_alert_to: str = Field(
        default="", description="Comma-separated team addresses for alerts, unless the "
        "workspace's team-alert rule names its own."
    )
    templates_dir: Path | None = Field(
        default=None, description="Email templates overriding the packaged ones."
    )
    outbound_allow_private: bool = Field(
        default=False, description="Let rule webhooks go to private addresses (loopback, "
        "RFC 1918, unique-local, CGNAT): for development, or a platform inside the "
        "deployment's own network. Link-local, multicast and unspecified stay refused."
    )
    outbound_allow_http: bool = Field(
        default=False, description="Let rule webhooks use plain http (development only: "
        "the body and its signature travel in the clear)."
    )
    outbound_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60,
        description="The whole of one rule webhook attempt (resolving, connecting, sending, "
        "reading the answer); a slower receiver fails the attempt."
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        shape = "DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DATABASE"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(shape) from None
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql",
                                  "postgresql+psycopg"):
            raise ValueError(f"{shape}, not {url.drivername}://...")
        if url.drivername.startswith("sqlite") and url.database in (None, "", ":memory:"):
            raise ValueError("in-memory SQLite keeps nothing once the command ends; give a "
                             "file: sqlite:///PATH")
        if value.startswith("postgresql://"):
            # Use psycopg 3, the driver the project depends on.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("stripe_api_base", "stripe_connect_base", "public_url")
    @classmethod
    def _base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value.strip() == "":
            if info.field_name == "public_url":
                return None
            raise ValueError(f"REVSYNC_{str(info.field_name).upper()} is an http(s) URL")
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query \
                or parsed.fragment:
            raise ValueError(f"REVSYNC_{str(info.field_name).upper()} is an http(s) base URL "
                             f"(no query or fragment), not {value!r}")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _connect_returns_somewhere(self) -> Settings:
        if self.stripe_connect_client_id and self.public_url is None:
            raise ValueError("REVSYNC_STRIPE_CONNECT_CLIENT_ID needs REVSYNC_PUBLIC_URL, the "
                             "app's public base URL that Stripe sends the browser back to")
        return self

    @model_validator(mode="after")
    def _sink_whole(self) -> Settings:
        if (self.sink_activity is None) != (self.sink_task_queue is None):
            raise ValueError("REVSYNC_SINK_ACTIVITY and REVSYNC_SINK_TASK_QUEUE are set "
                             "together, or neither")
        return self

    @field_validator("team_alert_to")
    @classmethod
    def _team_addresses(cls, value: str) -> str:
        # Spaces after the commas are the list's own; anything else must be an address
        # exactly, or every team alert would fail at the SMTP server.
        for address in value.split(","):
            if address.strip(" ") and not exact_email(address.strip(" ")):
                raise ValueError(f"REVSYNC_TEAM_ALERT_TO is comma-separated email addresses; "
                                 f"{address.strip(' ')!r} is not one (no line breaks or "
                                 "control characters)")
        return value

    @field_validator("platform_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip() == "":
            return None
        if len(value.get_secret_value()) < MIN_PLATFORM_KEY:
            raise ValueError(f"REVSYNC_PLATFORM_KEY must be at least {MIN_PLATFORM_KEY} "
                             "characters")
        return value

    def environment(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The environment of a child process (a worker, the web app) that reads exactly
        these settings: `inherited` without any variable a setting is read from, plus one
        variable per setting that is set. A setting that is None stays unset, so the child
        takes its default."""
        variables: dict[str, str] = {}
        every_name: set[str] = set()
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            names = ([str(choice) for choice in alias.choices]
                     if isinstance(alias, AliasChoices)
                     else [f"{self.model_config.get('env_prefix', '')}{name}".upper()])
            every_name.update(n.upper() for n in names)
            value = getattr(self, name)
            if value is not None:
                variables[names[0]] = _environment_value(value)
        kept = {k: v for k, v in inherited.items() if k.upper() not in every_name}
        return {**kept, **variables}

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, else a SQLite file under `data_dir`."""
        return self.database_url or f"sqlite:///{self.data_dir / 'revsync.sqlite'}"

    @property
    def activities_per_second(self) -> float:
        """Server-side activity rate of one test-mode account (a weight of 1)."""
        return self.stripe_requests_per_second / self.pages_per_activity

    @property
    def fleet_activities_per_second(self) -> float:
        """The fleet scope's activity rate, for every account together."""
        return self.stripe_fleet_requests_per_second / self.pages_per_activity

    @property
    def event_activities_per_second(self) -> float:
        """An event refetches at most two objects (a third only for an unseen customer)."""
        return self.stripe_event_requests_per_second / 2


def _environment_value(value: object) -> str:
    """A setting as its variable spells it (read back by pydantic-settings)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process (cached: the environment is read once)."""
    return Settings()
