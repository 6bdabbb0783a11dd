"""Stripe Connect (OAuth): connect a workspace without pasting a key.

The owner approves on Stripe's authorize page; the code that comes back is exchanged
with the platform's secret key for the connected account's id. The workspace stores
only that id (not secret): it is read with the platform key from the settings and the
`Stripe-Account` header (`workspaces.gateway`). The tokens the exchange also answers
are not kept; nothing needs them.
"""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
import stripe

from revsync.gateway.stripe_api import StripeGateway, StripeUnavailable
from revsync.settings import Settings
from revsync.setup.connection import ConnectError, create_defaults
from revsync.store import db, keystore, workspaces

SCOPE = "read_only"  # the sync only reads


def configured(settings: Settings) -> bool:
    return bool(settings.stripe_connect_client_id and settings.stripe_platform_key)


def authorize_url(settings: Settings, state: str, redirect_uri: str) -> str:
    query = urlencode({"response_type": "code", "client_id": settings.stripe_connect_client_id,
                       "scope": SCOPE, "state": state, "redirect_uri": redirect_uri})
    return f"{settings.stripe_connect_base.rstrip('/')}/oauth/authorize?{query}"


def complete(settings: Settings, workspace_name: str, code: str) -> str:
    """Exchange the code, check the account can be read, store; return its id."""
    if not configured(settings):
        raise ConnectError("Stripe Connect is not configured on this deployment")
    assert settings.stripe_platform_key is not None
    platform_key = settings.stripe_platform_key.get_secret_value()
    platform = StripeGateway(api_key=platform_key, api_base=settings.stripe_api_base,
                             connect_base=settings.stripe_connect_base, max_retries=2)
    try:
        response = platform.client.raw_request(
            "post", "/oauth/token", grant_type="authorization_code", code=code, base="connect")
        body = orjson.loads(response.body)
    except stripe.StripeError as error:
        raise ConnectError(f"Stripe refused the authorization: {error.user_message or error}"
                           ) from None
    except orjson.JSONDecodeError:
        raise ConnectError("Stripe answered the code exchange with invalid JSON") from None
    account = body.get("stripe_user_id") if isinstance(body, dict) else None
    if not isinstance(account, str) or not account.startswith("acct_"):
        raise ConnectError("Stripe answered the code exchange without an account id")
    reader = StripeGateway(api_key=platform_key, api_base=settings.stripe_api_base,
                           stripe_account=account, max_retries=2)
    try:
        reader.check_key()
    except (stripe.StripeError, StripeUnavailable) as error:
        raise ConnectError(f"the connected account cannot be read: {type(error).__name__}"
                           ) from None
    try:
        no_key = keystore.encrypt(settings, workspaces.CONNECT_KEY)
    except keystore.KeyStoreError as error:
        raise ConnectError(str(error)) from None
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.get_or_create(session, workspace_name)
        workspace.stripe_key_encrypted = no_key
        workspace.stripe_account = account
        workspace.stripe_account_id = account
        workspace.stripe_livemode = body.get("livemode") is True
        session.add(workspace)
        session.commit()
    create_defaults(settings, workspace_name)
    return account
