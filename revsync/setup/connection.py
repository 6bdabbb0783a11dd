"""Connect a workspace to Stripe: verify the key, store it encrypted, record options."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from revsync.automations.defaults import ensure_default_rules
from revsync.budget.rates import is_live_key
from revsync.events.parsing import HANDLED_TYPES
from revsync.gateway.stripe_api import StripeGateway, StripeUnavailable
from revsync.revenue.money import check_fx_rate
from revsync.segments.defaults import ensure_default_segments
from revsync.settings import Settings
from revsync.setup import reading
from revsync.store import db, keystore, workspaces

KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]+$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_]+$")
SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9_+/=]+$")
UNREACHABLE = "could not reach Stripe; try again in a moment"

log = logging.getLogger(__name__)


def product_ids(value: list[str] | None) -> list[str] | None:
    """Sorted, deduplicated `prod_` ids; ValueError names the ones that are not."""
    if value is None:
        return None
    bad = [p for p in value if not p.startswith("prod_") or not ID_PATTERN.match(p)]
    if bad:
        raise ValueError(f"not Stripe product ids: {', '.join(bad)}")
    return sorted(set(value))


class ConnectError(Exception):
    """The key or an option is unusable; nothing was stored."""

    exit_code = 2  # the input is wrong


class StripeUnreachable(ConnectError):
    """Stripe did not answer: the environment, not the input."""

    exit_code = 1


class Options(BaseModel):
    """The workspace's sync options, validated before anything is stored. Where Stripe
    is is not one of them: that is the deployment's `stripe_api_base`."""

    model_config = ConfigDict(extra="forbid")

    products: list[str] = Field(default_factory=list)
    sync_without_payment: bool = False
    metadata_keys: list[str] = Field(default_factory=list)
    reporting_currency: str = "usd"
    fx_rates: dict[str, str] = Field(default_factory=dict)
    # None keeps the stored list (less any product no longer synced).
    watch_products: list[str] | None = None
    webhook_url: str | None = None  # public base URL: Stripe gets an endpoint registered
    webhook_secrets: list[str] = Field(default_factory=list)  # endpoints managed by hand

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"not an ISO currency code: {value!r}")
        return value.lower()

    @field_validator("fx_rates")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        rates: dict[str, str] = {}
        for currency, rate in value.items():
            if not re.fullmatch(r"[A-Za-z]{3}", currency):
                raise ValueError(f"FX rates are CUR=number (eur=1.08), not {currency}={rate}")
            rates[currency.lower()] = str(check_fx_rate(currency, rate))
        return rates

    @field_validator("products", "watch_products")
    @classmethod
    def _products(cls, value: list[str] | None) -> list[str] | None:
        return product_ids(value)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/")

    @field_validator("webhook_secrets")
    @classmethod
    def _secrets(cls, value: list[str]) -> list[str]:
        if any(not SECRET_PATTERN.match(v) for v in value):
            raise ValueError("webhook signing secrets start with whsec_")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _watch_within_products(self) -> Options:
        outside = sorted(set(self.watch_products or []) - set(self.products))
        if outside:
            raise ValueError(
                f"products to watch must be synced products; not synced: {', '.join(outside)}"
            )
        return self

    @field_validator("metadata_keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        bad = [k for k in value if len(k) > 40 or not k.strip()]
        if bad:
            raise ValueError(f"metadata keys are 1-40 characters: {bad}")
        return list(dict.fromkeys(value))


def options(**values: object) -> Options:
    try:
        return Options.model_validate(values)
    except ValidationError as error:
        raise ConnectError("; ".join(e["msg"] for e in error.errors())) from None


def stored_options(settings: Settings, workspace_name: str, **overrides: object) -> Options:
    """The workspace's current options (defaults if it is new), with `overrides`: for
    replacing the key without touching what the owner chose."""
    stored: dict[str, object] = {}
    with db.session(settings.resolved_database_url) as session:
        try:
            workspace = workspaces.by_name(session, workspace_name)
            stored = {
                "products": workspace.products,
                "sync_without_payment": workspace.sync_without_payment,
                "metadata_keys": workspace.metadata_keys,
                "reporting_currency": workspace.reporting_currency,
                "fx_rates": workspace.fx_rates,
            }
        except workspaces.WorkspaceError:
            pass
    return options(**{**stored, **overrides})


def connect(settings: Settings, workspace_name: str, api_key: str, opts: Options) -> None:
    """Store the key and options only after one cheap call proves the key works."""
    if not workspaces.valid_name(workspace_name):
        raise ConnectError(f"{workspaces.NAME_RULE}, not {workspace_name!r}")
    if not KEY_PATTERN.match(api_key):
        raise ConnectError("that is not a Stripe secret (sk_) or restricted (rk_) key")
    try:
        encrypted = keystore.encrypt(settings, api_key)  # a bad secret key fails first
    except keystore.KeyStoreError as error:
        raise ConnectError(str(error)) from None
    gateway = StripeGateway(api_key=api_key, api_base=settings.stripe_api_base, max_retries=2)
    with _asking_stripe("Stripe refused the key check"):
        try:
            gateway.check_key()
        except stripe.AuthenticationError:
            raise ConnectError("Stripe rejected the key (authentication failed)") from None
        except stripe.PermissionError:
            raise ConnectError("the key may not list customers; grant read access") from None
    if opts.products:
        with _asking_stripe("could not list the account's products"):
            known = {p["id"] for p in reading.products(gateway)[0]}
        unknown = sorted(set(opts.products) - known)
        if unknown:
            raise ConnectError(f"unknown product ids: {', '.join(unknown)}")
    with _asking_stripe("could not read the key's account"):
        account_id = gateway.account_id()  # whose rate limits this workspace shares
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, workspace_name)
        secrets = [keystore.encrypt(settings, secret) for secret in opts.webhook_secrets]
        if opts.webhook_url:
            url = f"{opts.webhook_url}/webhooks/stripe/{workspace_name}"
            endpoint_id, secret = _register_endpoint(gateway, workspace.webhook_endpoint_id, url)
            workspace.webhook_endpoint_id = endpoint_id
            if secret is not None:
                secrets = [keystore.encrypt(settings, secret)]
        if secrets:
            workspace.webhook_secrets_encrypted = secrets
        workspace.stripe_key_encrypted = encrypted
        workspace.stripe_account = None  # its own key reads its own account
        workspace.stripe_account_id = account_id
        workspace.stripe_livemode = is_live_key(api_key)
        workspace.products = opts.products
        watch = workspace.watch_products if opts.watch_products is None else opts.watch_products
        # A product no longer synced is no longer watched.
        workspace.watch_products = sorted(set(watch) & set(opts.products))
        workspace.sync_without_payment = opts.sync_without_payment
        workspace.metadata_keys = opts.metadata_keys
        workspace.reporting_currency = opts.reporting_currency
        workspace.fx_rates = opts.fx_rates
        session.add(workspace)
        session.commit()
    create_defaults(settings, workspace_name)


def create_defaults(settings: Settings, workspace_name: str) -> None:
    """The default segments and rules, once per workspace, whichever way Stripe was first
    connected (a key here, or Stripe Connect in `oauth`)."""
    ensure_default_segments(settings.resolved_database_url, workspace_name)
    ensure_default_rules(settings.resolved_database_url, workspace_name)


@contextmanager
def _asking_stripe(refused: str) -> Iterator[None]:
    """Stripe not answering is the environment (exit 1); Stripe refusing is the input
    (saying what was refused). Why Stripe did not answer (an address, an OS error) goes
    to the log, never into the message, which reaches tenants' browsers."""
    try:
        yield
    except StripeUnavailable as error:
        log.warning("Stripe did not answer: %s", error)
        raise StripeUnreachable(UNREACHABLE) from None
    except stripe.StripeError as error:
        said = getattr(error, "user_message", None) or type(error).__name__
        raise ConnectError(f"{refused}: {said}") from None


def register_connect_endpoint(settings: Settings, base_url: str) -> tuple[str, str]:
    """Register the platform's one Connect endpoint (`connect=true`): every connected
    account's events, to `<base_url>/webhooks/stripe/connect`. Its id and signing secret,
    which Stripe shows only now: set it as REVSYNC_STRIPE_CONNECT_WEBHOOK_SECRET."""
    if settings.stripe_platform_key is None:
        raise ConnectError("set REVSYNC_STRIPE_PLATFORM_KEY, the platform's secret key")
    gateway = StripeGateway(api_key=settings.stripe_platform_key.get_secret_value(),
                            api_base=settings.stripe_api_base, max_retries=2)
    url = f"{base_url.rstrip('/')}/webhooks/stripe/connect"
    endpoint_id, secret = _register_endpoint(gateway, None, url, connect=True)
    assert secret is not None  # always a new endpoint
    return endpoint_id, secret


def _register_endpoint(
    gateway: StripeGateway, endpoint_id: str | None, url: str, connect: bool = False
) -> tuple[str, str | None]:
    """Create the webhook endpoint, or point the registered one at `url`.

    Returns its id and, when created, its signing secret (Stripe shows it only then).
    The endpoint's `api_version` is the SDK's, so payloads have the shape we parse.
    """
    fields = {"url": url, "enabled_events": sorted(HANDLED_TYPES)}
    created_only = {"api_version": stripe.api_version, **({"connect": True} if connect else {})}
    try:
        if endpoint_id:
            try:
                gateway.post(f"/v1/webhook_endpoints/{endpoint_id}", fields)
                return endpoint_id, None
            except stripe.InvalidRequestError as error:
                if error.http_status != 404:
                    raise
        created = gateway.post("/v1/webhook_endpoints", {**fields, **created_only})
    except (StripeUnavailable, stripe.StripeError) as error:
        message = getattr(error, "user_message", None) or type(error).__name__
        raise ConnectError(f"could not register the webhook endpoint: {message}") from None
    new_id, secret = created.get("id"), created.get("secret")
    if not isinstance(new_id, str) or not isinstance(secret, str):
        raise ConnectError("Stripe answered the webhook endpoint creation without id or secret")
    return new_id, secret
