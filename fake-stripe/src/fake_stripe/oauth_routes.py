"""connect.stripe.com's OAuth endpoints over :class:`~.oauth.OAuthApp`.

Serve them from the same server as the API and point the SDK's ``connect`` base
address at it: ``StripeClient(key, base_addresses={"api": url, "connect": url})``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .access import request_key
from .oauth import OAuthError

if TYPE_CHECKING:
    from .store import FakeStripe


def oauth_routes(state: FakeStripe) -> list[Route]:
    """``GET /oauth/authorize``, ``POST /oauth/token`` and ``POST /oauth/deauthorize``."""

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        return RedirectResponse(state.oauth.authorize(params), status_code=302)

    async def token(request: Request) -> Response:
        params = await _form(request)
        return _json(state.oauth.token(params, _secret(request, params)))

    async def deauthorize(request: Request) -> Response:
        params = await _form(request)
        return _json(state.oauth.deauthorize(params, _secret(request, params)))

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/deauthorize", deauthorize, methods=["POST"]),
    ]


async def oauth_error(request: Request, exc: Exception) -> Response:
    """Render an :class:`OAuthError` (registered as the app's handler for it)."""
    assert isinstance(exc, OAuthError)
    return _json(exc.body(), exc.status)


def _secret(request: Request, params: dict[str, str]) -> str:
    """The platform key: the ``client_secret`` field, else Bearer or HTTP basic auth."""
    return params.pop("client_secret", "") or request_key(
        request.headers.get("authorization", "")
    )


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode()
    return dict([*request.query_params.multi_items(), *parse_qsl(body, keep_blank_values=True)])


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})
