"""Who the settings page's session signs in, and to which workspace.

A session records `access`: `*` for the platform key's sign-in (platform operators, any
workspace) or the one workspace an embed link signed it in to, and `user`, the label
the platform gave the link. Every page, form and poll of `/settings/<workspace>` asks
`may_open`; a session of another workspace gets the 404 an unknown workspace gets.

Sessions live on the server (`credentials.page_sessions`): the cookie carries the
session's id, and `LiveSessions` forgets a session whose row was ended or has expired
before any route looks at it, so a copied cookie is worth nothing after sign-out.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from revsync.credentials import page_sessions
from revsync.store import db
from revsync.store.models import utcnow
from revsync.web.sessions import MAX_AGE

EVERY_WORKSPACE = "*"
PLATFORM_USER = "platform operator"
LIFETIME = timedelta(seconds=MAX_AGE)


async def sign_in(request: Request, url: str, access: str, user: str) -> None:
    """A fresh session (nothing of the one before is kept) with a new CSRF token."""
    await sign_out(request, url)

    def start() -> str:
        with db.session(url) as session:
            return page_sessions.start(session, access, user, utcnow(), LIFETIME)

    sid = await anyio.to_thread.run_sync(start)
    request.session.update(sid=sid, access=access, user=user,
                           csrf=secrets.token_urlsafe(32))


async def sign_out(request: Request, url: str) -> None:
    """End the session for every copy of its cookie, and forget it here."""
    sid = request.session.get("sid")
    request.session.clear()
    if not isinstance(sid, str):
        return

    def end() -> None:
        with db.session(url) as session:
            page_sessions.end(session, sid, utcnow())

    await anyio.to_thread.run_sync(end)


def signed_in(request: Request) -> bool:
    return isinstance(request.session.get("access"), str)


def may_open(request: Request, workspace: str) -> bool:
    access = request.session.get("access")
    return access == EVERY_WORKSPACE or (isinstance(access, str) and access == workspace)


class LiveSessions:
    """Middleware inside the session cookie's: a session whose row is not live (ended,
    expired, unknown) is emptied before the request goes on, so every route sees a
    signed-out browser. A request without a session (the JSON API, webhooks) costs
    nothing."""

    def __init__(self, app: ASGIApp, url: str) -> None:
        self.app = app
        self.url = url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session") if scope["type"] == "http" else None
        if session and ("sid" in session or "access" in session):  # not a flash alone
            sid = session.get("sid")
            opens = await anyio.to_thread.run_sync(self._opens, sid) if isinstance(
                sid, str) else None
            if opens is None or opens != session.get("access"):
                session.clear()
        await self.app(scope, receive, send)

    def _opens(self, sid: str) -> str | None:
        with db.session(self.url) as session:
            return page_sessions.opens(session, sid, utcnow())
