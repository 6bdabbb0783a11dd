"""Bearer-token authentication for the admin JSON API (/api/workspaces/...).

Closed by default: without `REVSYNC_ADMIN_TOKEN` every protected route answers 503,
never serves. The token is compared in constant time, as bytes (compare_digest on str
refuses non-ASCII, which would turn a crafted header into a 500).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revsync.settings import Settings
from revsync.web.errors import HttpError

Handler = Callable[[Request], Awaitable[Response]]


def check(settings: Settings, request: Request) -> None:
    """Return when the request carries the admin token, else raise the refusal."""
    if settings.admin_token is None:
        raise HttpError(503, "admin token not configured (set REVSYNC_ADMIN_TOKEN)")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(),
                                                             expected):
        raise HttpError(401, "missing or wrong admin token (Authorization: Bearer <token>)",
                        headers={"WWW-Authenticate": "Bearer"})


def admin_route(settings: Settings, path: str, handler: Handler, methods: list[str]) -> Route:
    """A route whose handler runs only for requests with the admin token."""
    async def guarded(request: Request) -> Response:
        check(settings, request)
        return await handler(request)

    return Route(path, guarded, methods=methods)
