"""The settings page's session cookie: signed, HttpOnly, and flagged by how the request
arrived.

The page is meant to be shown inside the host platform's UI, in a frame on another
site. A browser sends a cookie into a cross-site frame only if it is `SameSite=None`,
and accepts `SameSite=None` only with `Secure`, which an http page cannot set. So:

* over https (the scheme uvicorn reports; behind a TLS proxy it takes it from
  `X-Forwarded-Proto` for the addresses in `FORWARDED_ALLOW_IPS`): `SameSite=None;
  Secure; Partitioned`. Partitioned (CHIPS) keeps the cookie to the top-level site that
  framed the page, which is also what lets it work where third-party cookies are
  blocked. With the cookie going along on cross-site requests, every form's CSRF token
  is what stops a forged POST, and sign-in itself carries one;
* over http (local development): `SameSite=Lax`, without Secure, so the page works on
  http://127.0.0.1 and in frames of the same site (any port of localhost).

The choice is by request rather than a setting so that one deployment serving both
(a health check on http inside the cluster, the page over https) needs nothing set.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from revsync.settings import Settings

COOKIE = "revsync_session"
MAX_AGE = 8 * 3600


def session_secret(settings: Settings) -> str:
    """Cookies are signed with a key derived from the platform key (rotating it signs
    every browser out)."""
    key = settings.platform_key.get_secret_value() if settings.platform_key else ""
    return hmac.new(key.encode() or secrets.token_bytes(32), b"revsync-session",
                    "sha256").hexdigest()


class SessionCookies:
    """Starlette's session middleware, with the cookie flags of the request's scheme."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        secret = session_secret(settings)
        self.framed = SessionMiddleware(app, secret, session_cookie=COOKIE, max_age=MAX_AGE,
                                        same_site="none", https_only=True, partitioned=True)
        self.local = SessionMiddleware(app, secret, session_cookie=COOKIE, max_age=MAX_AGE,
                                       same_site="lax", https_only=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope.get("scheme") in ("https", "wss")
        await (self.framed if secure else self.local)(scope, receive, send)
