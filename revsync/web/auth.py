"""Bearer-token authentication for the admin HTTP API (segments now, settings later).

Closed by default: without `REVSYNC_ADMIN_TOKEN` every protected route answers 503,
never serves. The token is compared in constant time, as bytes (compare_digest on str
refuses non-ASCII, which would turn a crafted header into a 500).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from revsync.settings import Settings

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, message: str, **extra: object) -> JSONResponse:
    """The API's error shape: {"error": {"message": ..., ...}}."""
    return JSONResponse({"error": {"message": message, **extra}}, status_code=status)


def check(settings: Settings, request: Request) -> Response | None:
    """None when the request carries the admin token, else the response to send."""
    if settings.admin_token is None:
        return error(503, "admin token not configured (set REVSYNC_ADMIN_TOKEN)")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(),
                                                             expected):
        response = error(401, "missing or wrong admin token (Authorization: Bearer <token>)")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None


def admin_only(settings: Settings, handler: Handler) -> Handler:
    """Wrap a route handler so it runs only for requests with the admin token."""
    async def guarded(request: Request) -> Response:
        refusal = check(settings, request)
        return refusal if refusal is not None else await handler(request)

    return guarded
