"""Connect a workspace to Stripe: verify the key, store it encrypted, record options."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

import stripe
from pydantic import BaseModel, Field, ValidationError, field_validator

from revsync import db, keystore, workspaces
from revsync.settings import Settings
from revsync.stripe_api import StripeGateway, StripeUnavailable

KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]+$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_]+$")


class ConnectError(Exception):
    """The key or an option is unusable; nothing was stored."""


class Options(BaseModel):
    """The workspace's sync options, validated before anything is stored."""

    api_base: str | None = None
    products: list[str] = Field(default_factory=list)
    sync_without_payment: bool = False
    metadata_keys: list[str] = Field(default_factory=list)
    reporting_currency: str = "usd"
    fx_rates: dict[str, str] = Field(default_factory=dict)

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
            try:
                number = Decimal(rate)
            except InvalidOperation:
                raise ValueError(f"FX rate for {currency!r} is not a number: {rate!r}") from None
            if not re.fullmatch(r"[A-Za-z]{3}", currency) or not number.is_finite() or number <= 0:
                raise ValueError(f"FX rates are CUR=positive number, not {currency}={rate}")
            rates[currency.lower()] = str(number)
        return rates

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/")

    @field_validator("products")
    @classmethod
    def _products(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not p.startswith("prod_") or not ID_PATTERN.match(p)]
        if bad:
            raise ValueError(f"not Stripe product ids: {', '.join(bad)}")
        return sorted(set(value))

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


def connect(settings: Settings, workspace_name: str, api_key: str, opts: Options) -> None:
    """Store the key and options only after one cheap call proves the key works."""
    if not KEY_PATTERN.match(api_key):
        raise ConnectError("that is not a Stripe secret (sk_) or restricted (rk_) key")
    try:
        encrypted = keystore.encrypt(settings, api_key)  # a bad secret key fails first
    except keystore.KeyStoreError as error:
        raise ConnectError(str(error)) from None
    gateway = StripeGateway(api_key=api_key, api_base=opts.api_base, max_retries=2)
    try:
        gateway.check_key()
    except stripe.AuthenticationError:
        raise ConnectError("Stripe rejected the key (authentication failed)") from None
    except stripe.PermissionError:
        raise ConnectError("the key may not list customers; grant read access") from None
    except (StripeUnavailable, stripe.StripeError) as error:
        raise ConnectError(f"could not reach Stripe: {type(error).__name__}") from None
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, workspace_name)
        workspace.stripe_key_encrypted = encrypted
        workspace.api_base = opts.api_base
        workspace.products = opts.products
        workspace.sync_without_payment = opts.sync_without_payment
        workspace.metadata_keys = opts.metadata_keys
        workspace.reporting_currency = opts.reporting_currency
        workspace.fx_rates = opts.fx_rates
        session.add(workspace)
        session.commit()
