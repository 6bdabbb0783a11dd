"""The platform's Connect OAuth application (Standard accounts), as connect.stripe.com.

``authorize`` skips the login page: it answers at once as the Stripe user would
(:attr:`OAuthApp.next_account` connects, :attr:`OAuthApp.deny` refuses). Authorization
codes are single-use and expire after :attr:`OAuthApp.code_ttl` seconds of the
platform's clock. Errors are OAuth's flat ``{"error", "error_description"}`` shape.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .access import mask_key
from .connect import READ_ONLY, READ_WRITE, SCOPES, random_token

if TYPE_CHECKING:
    from .store import FakeStripe

DEFAULT_CLIENT_ID: Final = "ca_fake"
CODE_TTL: Final = 300


class OAuthError(Exception):
    """An OAuth error answer: ``{"error": code, "error_description": text}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """The flat JSON body Stripe sends (the SDK maps ``error`` to its classes)."""
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Code:
    account_id: str
    scope: str
    issued_at: int
    used: bool = False


@dataclass(frozen=True)
class _Refresh:
    account_id: str
    scope: str


class OAuthApp:
    """Client ids, the simulated user's answer, and the codes and refresh tokens issued.

    ``next_account`` is the ``acct_`` id that authorizes next (created if new); None
    means a new Stripe user signs up each time. ``redirect_uris`` lists the allowed
    ``redirect_uri`` values (the first is the default); empty allows any http(s) URL.
    """

    def __init__(self, platform: FakeStripe) -> None:
        self.client_ids: set[str] = {DEFAULT_CLIENT_ID}
        self.redirect_uris: list[str] = []
        self.next_account: str | None = None
        self.deny = False
        self.code_ttl = CODE_TTL
        self._platform = platform
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}

    def authorize(self, params: Mapping[str, str]) -> str:
        """The URL ``GET /oauth/authorize`` redirects to; OAuthError (400) on bad params."""
        self._check_client(params.get("client_id"), status=400)
        redirect_uri = self._redirect_uri(params.get("redirect_uri"))
        response_type = params.get("response_type")
        if not response_type:
            raise OAuthError(400, "invalid_request", "Missing response_type parameter")
        if response_type != "code":
            raise OAuthError(400, "unsupported_response_type",
                             "Unsupported response_type parameter. Currently the only "
                             "supported response_type is code")
        scope = params.get("scope") or READ_ONLY
        if scope not in SCOPES:
            raise OAuthError(400, "invalid_scope", "Invalid scope parameter provided")
        if self.deny:
            answer = {"error": "access_denied", "error_description": "The user denied your request"}
        else:
            answer = {"scope": scope, "code": self.issue_code(self._next_account(), scope)}
        if params.get("state") is not None:
            answer["state"] = params["state"]
        return _with_query(redirect_uri, answer)

    def issue_code(self, account_id: str, scope: str = READ_WRITE) -> str:
        """A fresh ``ac_`` code for a registered account (what authorize hands out)."""
        if account_id not in self._platform.connect:
            raise KeyError(account_id)
        code = random_token("ac_")
        with self._lock:
            self._codes[code] = _Code(account_id, scope, self._platform.clock())
        return code

    def token(self, params: Mapping[str, str], key: str) -> dict[str, Any]:
        """``POST /oauth/token``: exchange a code (or refresh token) for an access token."""
        self._check_secret(key)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "No grant type specified")
        code: str | None = None
        if grant_type == "authorization_code":
            code = params.get("code") or ""
            account_id, scope = self._redeem(code)
            self._platform.connect.connect(account_id, scope)
            refresh_token = random_token("rt_")
            with self._lock:
                self._refresh[refresh_token] = _Refresh(account_id, scope)
        elif grant_type == "refresh_token":
            refresh_token = params.get("refresh_token") or ""
            account_id, scope = self._refreshed(refresh_token, params.get("scope"))
        else:
            raise OAuthError(400, "unsupported_grant_type",
                             f"Unsupported grant type: {grant_type}")
        livemode = key.startswith("sk_live_")
        connect = self._platform.connect
        access = connect.issue_token(account_id, scope, code=code, livemode=livemode)
        return {
            "access_token": access.token,
            "livemode": livemode,
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "stripe_publishable_key": connect.publishable_key(account_id, livemode=livemode),
            "stripe_user_id": account_id,
            "scope": scope,
        }

    def deauthorize(self, params: Mapping[str, str], key: str) -> dict[str, str]:
        """``POST /oauth/deauthorize``: disconnect an account and revoke its tokens."""
        self._check_secret(key)
        self._check_client(params.get("client_id"), status=401)
        account_id = params.get("stripe_user_id")
        if not account_id:
            raise OAuthError(400, "invalid_request", "No stripe_user_id provided")
        if not self._platform.connect.disconnect(account_id):
            raise OAuthError(401, "invalid_client",
                             f"This application is not connected to stripe account "
                             f"{account_id}, or that account does not exist.")
        with self._lock:
            for token in [t for t, r in self._refresh.items() if r.account_id == account_id]:
                del self._refresh[token]
            for code in [c for c, g in self._codes.items() if g.account_id == account_id]:
                del self._codes[code]
        return {"stripe_user_id": account_id}

    # ---- checks -------------------------------------------------------------------

    def _check_client(self, client_id: str | None, *, status: int) -> None:
        if not client_id:
            raise OAuthError(400, "invalid_request", "No client_id provided")
        if client_id not in self.client_ids:
            raise OAuthError(status, "invalid_client", f"No such application: '{client_id}'")

    def _check_secret(self, key: str) -> None:
        if not key:
            raise OAuthError(401, "invalid_client",
                             "No API key provided. Send your secret key as the client_secret "
                             "parameter or as the HTTP Basic auth username.")
        if key not in self._platform.api_keys:
            raise OAuthError(401, "invalid_client", f"Invalid API Key provided: {mask_key(key)}")

    def _redirect_uri(self, given: str | None) -> str:
        if not given:
            if not self.redirect_uris:
                raise OAuthError(400, "invalid_request",
                                 "No redirect_uri provided, and the application has none "
                                 "configured")
            return self.redirect_uris[0]
        parts = urlsplit(given)
        allowed = given in self.redirect_uris if self.redirect_uris else True
        if parts.scheme not in ("http", "https") or not parts.hostname or not allowed:
            raise OAuthError(400, "invalid_redirect_uri",
                             "Provided redirect_uri parameter is either an invalid URL or is "
                             "not allowed by your application settings")
        return given

    def _next_account(self) -> str:
        account_id = self.next_account
        if account_id is not None and account_id in self._platform.connect:
            return account_id
        created = self._platform.add_connected_account(account_id, connected=False)
        assert created.account_id is not None
        return created.account_id

    def _redeem(self, code: str) -> tuple[str, str]:
        if not code:
            raise OAuthError(400, "invalid_request", "No authorization code provided")
        with self._lock:
            grant = self._codes.get(code)
            if grant is None:
                raise OAuthError(400, "invalid_grant", f"Authorization code does not exist: {code}")
            if grant.used:
                self._platform.connect.revoke_code_tokens(code)
                raise OAuthError(400, "invalid_grant",
                                 "This authorization code has already been used. All tokens "
                                 "issued with this code have been revoked.")
            if self._platform.clock() >= grant.issued_at + self.code_ttl:
                raise OAuthError(400, "invalid_grant", f"Authorization code expired: {code}")
            grant.used = True
            return grant.account_id, grant.scope

    def _refreshed(self, refresh_token: str, scope: str | None) -> tuple[str, str]:
        if not refresh_token:
            raise OAuthError(400, "invalid_request", "No refresh token provided")
        with self._lock:
            grant = self._refresh.get(refresh_token)
        if grant is None or not self._platform.connect.is_connected(grant.account_id):
            raise OAuthError(400, "invalid_grant", f"Invalid refresh token: {refresh_token}")
        scope = scope or grant.scope
        if scope not in SCOPES or (grant.scope == READ_ONLY and scope == READ_WRITE):
            raise OAuthError(400, "invalid_scope", "Invalid scope parameter provided")
        return grant.account_id, scope


def _with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
