"""Stripe Connect (OAuth): connect a workspace without pasting a key.

The owner approves on Stripe's authorize page, which sends the browser back to the
deployment's own `REVSYNC_PUBLIC_URL` (never an address taken from the request); the
code that comes back is exchanged with the platform's secret key for the connected
account's id. The workspace stores only that id (not secret): it is read with the
platform key from the settings and the `Stripe-Account` header (`workspaces.gateway`).
The tokens the exchange also answers are not kept; nothing needs them. Disconnecting
deauthorizes the account at Stripe, so the platform keeps no access the owner took
back from revsync.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import orjson
import stripe

from revsync.gateway.stripe_api import StripeGateway, StripeUnavailable
from revsync.settings import Settings
from revsync.setup.connection import UNREACHABLE, ConnectError, StripeUnreachable, create_defaults
from revsync.store import db, keystore, workspaces

SCOPE = "read_only"  # the sync only reads
CALLBACK = "/stripe/oauth/callback"
NOT_CONNECTED = "not connected"  # Stripe's words for a grant that is already gone

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    return bool(settings.stripe_connect_client_id and settings.stripe_platform_key
                and settings.public_url)


def redirect_uri(settings: Settings) -> str:
    """Where Stripe sends the browser back: the deployment's public address, so no
    request can name another (register exactly this in the Connect settings)."""
    assert settings.public_url is not None
    return settings.public_url + CALLBACK


def authorize_url(settings: Settings, state: str) -> str:
    query = urlencode({"response_type": "code", "client_id": settings.stripe_connect_client_id,
                       "scope": SCOPE, "state": state, "redirect_uri": redirect_uri(settings)})
    return f"{settings.stripe_connect_base}/oauth/authorize?{query}"


def _platform(settings: Settings, retries: int) -> StripeGateway:
    """The platform's own client, for connect.stripe.com's OAuth endpoints."""
    if not configured(settings):
        raise ConnectError("Stripe Connect is not configured on this deployment")
    assert settings.stripe_platform_key is not None
    return StripeGateway(api_key=settings.stripe_platform_key.get_secret_value(),
                         api_base=settings.stripe_api_base,
                         connect_base=settings.stripe_connect_base, max_retries=retries)


def _oauth_call(platform: StripeGateway, path: str, refused: str,
                **params: str) -> dict[str, Any]:
    """POST to connect.stripe.com with the platform key; its JSON object. Stripe not
    answering is StripeUnreachable (the reason only logged), a refusal ConnectError with
    Stripe's own description."""
    try:
        response, _ = platform.call(lambda: platform.client.raw_request(
            "post", path, base="connect", **params))
        body = orjson.loads(response.body)
    except StripeUnavailable as error:
        log.warning("Stripe Connect did not answer %s: %s", path, error)
        raise StripeUnreachable(UNREACHABLE) from None
    except stripe.StripeError as error:
        raise ConnectError(f"{refused}: {error.user_message or type(error).__name__}"
                           ) from None
    except orjson.JSONDecodeError:
        raise ConnectError(f"Stripe answered {path} with invalid JSON") from None
    if not isinstance(body, dict):
        raise ConnectError(f"Stripe answered {path} with a non-object JSON body")
    return body


def complete(settings: Settings, workspace_name: str, code: str) -> str:
    """Exchange the code, check the account can be read, store; return its id. The
    workspace exists already (the page started the authorization for it)."""
    # Never retried: a code works once, and Stripe answers a second use by revoking
    # every token issued for it.
    platform = _platform(settings, retries=0)
    platform_key = platform.api_key
    body = _oauth_call(platform, "/oauth/token", "Stripe refused the authorization",
                       grant_type="authorization_code", code=code)
    account = body.get("stripe_user_id")
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
        try:
            workspace = workspaces.by_name(session, workspace_name)
        except workspaces.WorkspaceError as error:
            raise ConnectError(str(error)) from None
        workspace.stripe_key_encrypted = no_key
        workspace.stripe_account = account
        workspace.stripe_account_id = account
        workspace.stripe_livemode = body.get("livemode") is True
        session.add(workspace)
        session.commit()
    create_defaults(settings, workspace_name)
    return account


def deauthorize(settings: Settings, account: str) -> bool:
    """Revoke the platform's access to `account` at Stripe (`POST /oauth/deauthorize`).
    True when Stripe revoked it now, False when it was gone already (the owner removed
    the platform in their dashboard). Anything else raises, and nothing is forgotten:
    a workspace that forgot an account Stripe still grants would leave the platform with
    access the owner believes is revoked."""
    platform = _platform(settings, retries=2)  # a repeat finds it gone: False
    try:
        _oauth_call(platform, "/oauth/deauthorize", "Stripe refused to disconnect the account",
                    client_id=str(settings.stripe_connect_client_id), stripe_user_id=account)
    except StripeUnreachable:
        raise
    except ConnectError as refused:
        if NOT_CONNECTED in str(refused):
            return False
        raise
    return True
