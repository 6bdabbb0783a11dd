"""Which account an API request acts on: its secret key plus ``Stripe-Account``.

- the platform's key alone: the platform's own data;
- the platform's key + ``Stripe-Account: acct_X``: acct_X's data while it is connected
  (403 ``account_invalid`` otherwise, as Stripe answers for unknown or revoked access);
- an OAuth access token (or a connected account's own key): that account's data, and
  ``Stripe-Account`` may only name that same account.

A ``read_only`` connection may read but not write (403).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Final

from .connect import READ_ONLY, READ_WRITE
from .errors import StripeError

if TYPE_CHECKING:
    from .store import FakeStripe

_READS: Final = frozenset({"GET", "HEAD"})


def request_key(authorization: str) -> str:
    """The API key in ``Bearer <key>`` or HTTP basic ``<key>:``; empty if there is none."""
    if authorization.startswith("Bearer "):
        return authorization[7:].strip()
    if authorization.startswith("Basic "):
        try:
            return base64.b64decode(authorization[6:]).decode().split(":", 1)[0]
        except ValueError:
            return ""
    return ""


def mask_key(key: str) -> str:
    """How Stripe quotes a key in errors: ``sk_test_****abcd``."""
    return f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}"


def missing_key() -> StripeError:
    """Stripe's 401 for a request without an API key."""
    return StripeError(
        401,
        "You did not provide an API key. You need to provide your API key in the "
        "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
        "YOUR_SECRET_KEY').",
    )


def invalid_key(key: str) -> StripeError:
    """Stripe's 401 for a key no account has."""
    return StripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}",
                       code="api_key_invalid")


def resolve_account(platform: FakeStripe, key: str, stripe_account: str | None,
                    method: str) -> FakeStripe:
    """The account a request with ``key`` acts on; raises :class:`StripeError` if none."""
    if not key:
        raise missing_key()
    connect = platform.connect
    if key in platform.api_keys:
        if not stripe_account:
            return platform
        scope = connect.scope(stripe_account)
        if scope is None:
            raise _no_access(key, stripe_account)
        account_id = stripe_account
    else:
        token = connect.access_token(key)
        if token is not None:
            account_id, scope = token.account_id, token.scope
        else:
            owner = connect.owner_of_key(key)
            if owner is None:
                raise invalid_key(key)
            account_id, scope = owner, READ_WRITE
        if stripe_account and stripe_account != account_id:
            raise _no_access(key, stripe_account)
    if scope == READ_ONLY and method.upper() not in _READS:
        raise StripeError(
            403,
            f"The provided key '{mask_key(key)}' does not have the required permissions "
            f"for this endpoint on account '{account_id}'. Having the 'read_write' scope "
            "would allow this request to continue.",
            type="invalid_request_error",
        )
    return connect[account_id]


def _no_access(key: str, account_id: str) -> StripeError:
    return StripeError(
        403,
        f"The provided key '{mask_key(key)}' does not have access to account "
        f"'{account_id}' (or that account does not exist). Application access may have "
        "been revoked.",
        code="account_invalid",
    )
