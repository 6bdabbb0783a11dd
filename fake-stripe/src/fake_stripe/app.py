"""The HTTP face of :class:`FakeStripe`: Stripe's v1 form API plus ``/_fake`` controls.

Auth, injected faults, ``Request-Id``/``Stripe-Version`` headers and the request log
apply to ``/v1`` only, so test controls never count as (or fail like) API calls.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access import request_key, resolve_account
from .errors import StripeError, invalid_param
from .forms import decode, to_list
from .mutations import ACTIONS, CREATE, UPDATE
from .nested_lists import on_the_wire
from .nested_routes import nested_list_routes
from .oauth import OAuthError
from .oauth_routes import oauth_error, oauth_routes
from .objects import API_VERSION
from .params import list_kwargs, reject_unknown
from .requestlog import LoggedRequest
from .store import COLLECTIONS, FakeStripe
from .webhook_forms import create_args, list_args, update_fields

if TYPE_CHECKING:
    from .delivery import WebhookDelivery

_TYPES = {collection: object_type for object_type, collection in COLLECTIONS.items()}
_DELETABLE = frozenset({"customer", "product", "coupon"})
#: Scope key where the middleware leaves the account a ``/v1`` request acts on.
_ACCOUNT: Final = "fake_stripe.account"
#: Scope key of the request's ``Request-Id``, which its error body links to.
_REQUEST_ID: Final = "fake_stripe.request_id"


def create_app(state: FakeStripe, delivery: WebhookDelivery | None = None) -> Starlette:
    """A Starlette app serving ``state`` like api.stripe.com (v1 subset).

    With ``delivery``, ``/_fake/deliveries`` shows (GET) or forgets (DELETE) its attempts.
    ``/oauth/*`` serves Connect OAuth (connect.stripe.com); a ``Stripe-Account`` header
    makes a ``/v1`` request act on that connected account's data.
    """

    def account(request: Request) -> FakeStripe:
        return cast(FakeStripe, request.scope.get(_ACCOUNT, state))

    async def list_or_create(request: Request) -> Response:
        acct = account(request)
        object_type = _type_of(request)
        if request.method == "GET":
            params = decode(request.query_params.multi_items())
            return _api(acct.list(object_type, **list_kwargs(object_type, params)))
        params = await _form(request)
        expand = _expand(params)
        if object_type not in CREATE:
            raise _unrecognized(request)
        obj = CREATE[object_type](acct, params)
        return _api(_reexpand(acct, object_type, obj, expand))

    async def one(request: Request) -> Response:
        acct = account(request)
        object_type = _type_of(request)
        object_id = request.path_params["id"]
        if request.method == "GET":
            params = decode(request.query_params.multi_items())
            expand = _expand(params)
            reject_unknown(params, frozenset())
            return _api(acct.retrieve(object_type, object_id, expand))
        params = await _form(request)
        expand = _expand(params)
        if request.method == "DELETE":
            if object_type == "subscription":
                obj = ACTIONS[("subscription", "cancel")](acct, object_id, params)
                return _api(_reexpand(acct, object_type, obj, expand))
            if object_type not in _DELETABLE:
                raise _unrecognized(request)
            return _api(acct.delete(object_type, object_id))
        if object_type not in UPDATE:
            raise _unrecognized(request)
        obj = UPDATE[object_type](acct, object_id, params)
        return _api(_reexpand(acct, object_type, obj, expand))

    async def action(request: Request) -> Response:
        acct = account(request)
        object_type = _type_of(request)
        handler = ACTIONS.get((object_type, request.path_params["action"]))
        if handler is None:
            raise _unrecognized(request)
        params = await _form(request)
        expand = _expand(params)
        obj = handler(acct, request.path_params["id"], params)
        return _api(_reexpand(acct, object_type, obj, expand))

    async def webhook_list_or_create(request: Request) -> Response:
        acct = account(request)
        if request.method == "GET":
            params = decode(request.query_params.multi_items())
            return _json(acct.webhooks.list(**list_args(params)))
        params = await _form(request)
        _no_expand(params)
        args = create_args(params)
        if args.get("connect") and acct.account_id is not None:
            raise invalid_param("connect", "Only a platform account has Connect endpoints.")
        return _json(acct.webhooks.create(**args))

    async def webhook_one(request: Request) -> Response:
        acct = account(request)
        endpoint_id = request.path_params["id"]
        if request.method == "GET":
            params = decode(request.query_params.multi_items())
            _no_expand(params)
            reject_unknown(params, frozenset())
            return _json(acct.webhooks.retrieve(endpoint_id))
        params = await _form(request)
        _no_expand(params)
        if request.method == "DELETE":
            return _json(acct.webhooks.delete(endpoint_id))
        current = acct.webhooks.retrieve(endpoint_id)
        return _json(acct.webhooks.update(endpoint_id, update_fields(params, current)))

    async def account_info(request: Request) -> Response:
        """The account the key (and `Stripe-Account`) acts on, as `GET /v1/account`."""
        acct = account(request)
        return _json({"id": acct.account_id or state.platform_account_id, "object": "account",
                      "livemode": False, "type": "standard"})

    async def unknown(request: Request) -> Response:
        raise _unrecognized(request)

    async def fake_requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.log.clear()
            return _json({"cleared": True})
        return _json(
            {
                "requests": [e.to_dict() for e in state.log.entries()],
                "counts": state.log.counts(),
            }
        )

    async def fake_config(request: Request) -> Response:
        if request.method == "DELETE":
            return _json(state.faults.reset().to_dict())
        if request.method == "POST":
            body = await request.body()
            changes = orjson.loads(body) if body else {}
            try:
                state.faults.set(**changes)
            except (TypeError, ValueError) as exc:
                return _json({"error": {"type": "invalid_request_error", "message": str(exc)}},
                             400)
        return _json(state.faults.config.to_dict())

    async def fake_deliveries(request: Request) -> Response:
        assert delivery is not None
        if request.method == "DELETE":
            delivery.clear()
            return _json({"cleared": True})
        return _json(
            {
                "deliveries": [a.to_dict() for a in delivery.attempts],
                "pending": delivery.pending,
                "paused": delivery.paused,
            }
        )

    routes = [
        Route("/_fake/requests", fake_requests, methods=["GET", "DELETE"]),
        Route("/_fake/config", fake_config, methods=["GET", "POST", "DELETE"]),
        *(
            [Route("/_fake/deliveries", fake_deliveries, methods=["GET", "DELETE"])]
            if delivery is not None
            else []
        ),
        *oauth_routes(state),
        Route("/v1/webhook_endpoints", webhook_list_or_create, methods=["GET", "POST"]),
        Route("/v1/webhook_endpoints/{id}", webhook_one, methods=["GET", "POST", "DELETE"]),
        Route("/v1/account", account_info, methods=["GET"]),
        *nested_list_routes(account, _api),
        Route("/v1/{collection}", list_or_create, methods=["GET", "POST"]),
        Route("/v1/{collection}/{id}", one, methods=["GET", "POST", "DELETE"]),
        Route("/v1/{collection}/{id}/{action}", action, methods=["POST"]),
        Route("/v1/{rest:path}", unknown, methods=["GET", "POST", "DELETE"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(StripeMiddleware, state=state)],
        exception_handlers={
            StripeError: _stripe_error,
            OAuthError: oauth_error,
            ValueError: _value_error,
        },
    )
    app.state.fake_stripe = state
    return app


class StripeMiddleware:
    """Latency, auth, faults, Stripe headers and the request log for ``/v1`` paths."""

    def __init__(self, app: ASGIApp, state: FakeStripe) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        scope[_REQUEST_ID] = request_id = f"req_{secrets.token_hex(7)}"
        extra = [
            (b"request-id", request_id.encode()),
            (b"stripe-version", headers.get("stripe-version", API_VERSION).encode()),
        ]
        logged = False

        def log(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            path = scope["path"]
            self.state.log.add(
                LoggedRequest(
                    method=scope["method"],
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status,
                    timestamp=time.time(),
                    endpoint=f"{scope['method']} {_endpoint(path)}",
                    duration_ms=(time.perf_counter() - started) * 1000,
                    account=_account_of(scope),
                )
            )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Logged before the client can see the response, so tests never race it.
                log(message["status"])
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        self.state.log.received()
        try:
            await self._answer(scope, receive, send, headers, extra, log, send_with_headers)
        finally:
            self.state.log.answered()

    async def _answer(self, scope: Scope, receive: Receive, send: Send, headers: Headers,
                      extra: list[tuple[bytes, bytes]], log: Any, send_with_headers: Any) -> None:
        latency = self.state.faults.config.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        try:
            scope[_ACCOUNT] = account = resolve_account(
                self.state,
                request_key(headers.get("authorization", "")),
                headers.get("stripe-account"),
                scope["method"],
            )
            error = self.state.faults.next_fault(account.account_id or PLATFORM,
                                                 f"{scope['method']} {_endpoint(scope['path'])}")
            if headers.get("stripe-account"):
                extra.append((b"stripe-account", headers["stripe-account"].encode()))
        except StripeError as exc:
            error = exc
        try:
            if error is not None:
                await _error_response(error, scope)(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            log(500)


PLATFORM = "platform"  # the account a platform key without `Stripe-Account` acts on


def _account_of(scope: Scope) -> str:
    """The account the request acted on, once resolved; "" when it was refused first."""
    account = scope.get(_ACCOUNT)
    return "" if account is None else (account.account_id or PLATFORM)


def _endpoint(path: str) -> str:
    """``/v1/customers/cus_1/x`` -> ``/v1/customers/{id}/x`` for per-endpoint counters."""
    parts = path.split("/")
    if len(parts) > 3 and parts[3]:
        parts[3] = "{id}"
    return "/".join(parts)


def _type_of(request: Request) -> str:
    object_type = _TYPES.get(request.path_params["collection"])
    if object_type is None:
        raise _unrecognized(request)
    return object_type


def _unrecognized(request: Request) -> StripeError:
    return StripeError(
        404,
        f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


async def _form(request: Request) -> dict[str, Any]:
    body = (await request.body()).decode()
    pairs = parse_qsl(body, keep_blank_values=True) + list(request.query_params.multi_items())
    return decode(pairs)


def _expand(params: dict[str, Any]) -> list[str]:
    return [str(p) for p in to_list(params.pop("expand", []), "expand")]


def _no_expand(params: dict[str, Any]) -> None:
    """Webhook endpoints have nothing to expand (Stripe accepts an empty ``expand``)."""
    for i, path in enumerate(_expand(params)):
        raise StripeError(400, f"This property cannot be expanded ({path}).",
                          param=f"expand[{i}]")


def _reexpand(state: FakeStripe, object_type: str, obj: dict[str, Any],
              expand: list[str]) -> dict[str, Any]:
    if not expand or obj.get("deleted"):
        return obj
    return state.retrieve(object_type, obj["id"], expand)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _api(body: Any) -> Response:
    """An API object or list as Stripe sends it (nested lists cut at 10)."""
    return _json(on_the_wire(body))


def _error_response(error: StripeError, scope: Scope) -> Response:
    body = error.body(scope.get(_REQUEST_ID), int(time.time()))
    response = _json(body, error.status)
    for name, value in error.response_headers().items():
        response.headers[name] = value
    return response


async def _stripe_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StripeError)
    return _error_response(exc, request.scope)


async def _value_error(request: Request, exc: Exception) -> Response:
    return _error_response(StripeError(400, str(exc)), request.scope)
