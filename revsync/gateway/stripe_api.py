"""Stripe access for the sync: one page of one stream at a time, with exact request counts.

The SDK's own retries are switched off (`max_network_retries=0`) so that every HTTP
request is counted here, and so that 429 answers, which the SDK does not retry, get
the same backoff as 5xx and connection errors: `Retry-After` when Stripe sends it,
else exponential backoff with jitter.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
import stripe

from revsync.gateway.raw_get import get_body

# Called before every HTTP attempt made in this context (thread or task): the caller's
# durable request count. See `metered`.
REQUEST_METER: ContextVar[Callable[[], None] | None] = ContextVar("request_meter", default=None)


@contextmanager
def metered(count: Callable[[], None]) -> Iterator[None]:
    """Call `count` before each Stripe request the gateway sends inside this block."""
    token = REQUEST_METER.set(count)
    try:
        yield
    finally:
        REQUEST_METER.reset(token)


THROTTLED_TO_CALLER: ContextVar[bool] = ContextVar("throttled_to_caller", default=False)


@contextmanager
def throttling_to_caller() -> Iterator[None]:
    """Inside this block a 429 raises `Throttled` at once instead of being retried here.

    A full sync's Stripe calls are paced by Temporal's per-account rate; a retry after a
    sleep inside the activity is one more request outside that pace, and under a burst
    every cursor's retries pile up into many more 429s. The caller's next try goes back
    through the task queue instead.
    """
    token = THROTTLED_TO_CALLER.set(True)
    try:
        yield
    finally:
        THROTTLED_TO_CALLER.reset(token)


PAGE_SIZE = 100
RETRYABLE = (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)


@dataclass(frozen=True)
class NestedList:
    """A list Stripe embeds in an object, at most 10 entries of it: the rest is paged from
    the list's `url`, with these expansions (relative to each entry, as `data.<...>`)."""

    field: str
    expand: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamSpec:
    """How one Stripe object type is listed across a whole account."""

    resource: str
    params: dict[str, Any] = field(default_factory=dict)
    catalogue: bool = False
    nested: tuple[NestedList, ...] = ()


STREAMS: dict[str, StreamSpec] = {
    "prices": StreamSpec("prices", {"expand": ["data.tiers"]}, catalogue=True),
    "coupons": StreamSpec("coupons", catalogue=True),
    "products": StreamSpec("products", catalogue=True),
    "customers": StreamSpec("customers"),
    # status=all: the default hides canceled subscriptions, which hides churn.
    "subscriptions": StreamSpec(
        "subscriptions",
        {"status": "all", "expand": ["data.discounts", "data.items.data.discounts"]},
        nested=(NestedList("items", ("data.discounts",)),),
    ),
    "charges": StreamSpec("charges"),
    "invoices": StreamSpec("invoices", {"status": "paid"}, nested=(NestedList("lines"),)),
}
# Where a nested list's rest may be paged: Stripe's own list endpoints, nothing else.
NESTED_URL = re.compile(r"/v1/(subscription_items|invoices/[A-Za-z0-9_]{1,255}/lines)")


def streams_needed(products_selected: bool) -> list[str]:
    """Paid invoices are only needed to check "paid for a selected product"."""
    return [name for name in STREAMS if name != "invoices" or products_selected]


class StripeUnavailable(Exception):
    """Stripe kept failing after every retry; the activity's own retry takes over."""


class Throttled(StripeUnavailable):
    """Stripe answered 429 inside `throttling_to_caller`; nothing was retried."""


@dataclass
class Page:
    """One listed page: plain dicts, Stripe's `has_more`, and what it cost."""

    objects: list[dict[str, Any]]
    has_more: bool
    requests: int
    malformed: int = 0  # list entries that were not objects at all
    # When the answering request was sent: the state it read is at least this new.
    # The mirror's monotonic guard compares these, never the time a row is written.
    requested_at: float = 0.0
    nested_pages: int = 0  # pages of nested lists read to complete the objects

    @property
    def newest_created(self) -> int | None:
        """The largest integer `created` on the page (lists are newest first)."""
        stamps = [o["created"] for o in self.objects if isinstance(o.get("created"), int)]
        return max(stamps, default=None)

    @property
    def last_created(self) -> int | None:
        """`created` of the cursor object, the fallback if that object is deleted."""
        keyed = [o for o in self.objects if isinstance(o.get("id"), str) and o["id"]]
        created = keyed[-1].get("created") if keyed else None
        return created if isinstance(created, int) and not isinstance(created, bool) else None

    @property
    def last_id(self) -> str | None:
        """The cursor for the next page: the last object that has an id."""
        return last_id(self.objects)


def last_id(entries: list[Any]) -> str | None:
    """The id of the last entry that has one: where the list's next page starts."""
    for entry in reversed(entries):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]:
            return str(entry["id"])
    return None


def listed(path: str, body: dict[str, Any]) -> tuple[list[Any], bool]:
    """A list answer's entries and `has_more`. Guessing at a malformed one could end a
    listing early and silently lose objects, so it is an error (retryable)."""
    data, has_more = body.get("data"), body.get("has_more")
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise StripeUnavailable(f"Stripe answered {path} with a malformed list")
    if has_more and last_id(data) is None:
        raise StripeUnavailable(f"Stripe answered {path} with more to come but no cursor")
    return data, has_more


@dataclass
class StripeGateway:
    """A Stripe client with the project's retry and counting policy."""

    api_key: str
    api_base: str | None = None
    stripe_account: str | None = None  # Stripe Connect: read this connected account
    connect_base: str | None = None  # OAuth (connect.stripe.com) for the token exchange
    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    _client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            http = stripe.HTTPXClient(allow_sync_methods=True)
            kwargs: dict[str, Any] = {"max_network_retries": 0, "http_client": http}
            bases = {"api": self.api_base, "connect": self.connect_base}
            if self.api_base or self.connect_base:
                kwargs["base_addresses"] = {k: v for k, v in bases.items() if v}
            self._client = stripe.StripeClient(self.api_key, **kwargs)
        return self._client

    def list_page(
        self,
        stream: str,
        starting_after: str | None,
        cursor_created: int | None = None,
        created: dict[str, int] | None = None,
    ) -> Page:
        """Fetch the page after `starting_after` (newest first), retrying throttling.

        If the cursor object was deleted meanwhile, Stripe refuses it (400
        resource_missing); the listing then resumes at the cursor's `created` second,
        re-reading only objects of that same second (upserts are idempotent).
        """
        spec = STREAMS[stream]
        params: dict[str, Any] = {"limit": PAGE_SIZE, **spec.params}
        if starting_after:
            params["starting_after"] = starting_after
        if created:
            params["created"] = dict(created)
        path = f"/v1/{spec.resource}"
        try:
            body, requests, requested_at = self.get_timed(path, params)
        except stripe.InvalidRequestError as error:
            if not _lost_cursor(error) or cursor_created is None:
                raise
            params.pop("starting_after")
            params["created"] = {**(created or {}), "lte": cursor_created}
            body, requests, requested_at = self.get_timed(path, params)
            requests += 1  # the refused request counts too
        data, has_more = listed(path, body)
        objects = [o for o in data if isinstance(o, dict)]
        page = Page(objects, has_more, requests, len(data) - len(objects), requested_at)
        for obj in objects:
            nested_pages, nested_requests = self.complete(stream, obj)
            page.nested_pages += nested_pages
            page.requests += nested_requests
        return page

    def complete(self, stream: str, obj: dict[str, Any]) -> tuple[int, int]:
        """Read the rest of every nested list `obj` embeds only in part (`has_more`), from
        the list's own `url`, 100 at a time; the pages read and the requests they took.

        Only a list that says there is more costs a request. A list that is missing or
        odd is left as it is, for the revenue definitions to count, never guessed at; a
        `url` other than Stripe's own list endpoints is Stripe misbehaving.
        """
        pages = requests = 0
        for nested in STREAMS[stream].nested:
            embedded = obj.get(nested.field)
            if not isinstance(embedded, dict) or embedded.get("has_more") is not True:
                continue
            data, url = embedded.get("data"), embedded.get("url")
            if not isinstance(data, list) or not isinstance(url, str):
                continue
            path, _, query = url.partition("?")
            if not NESTED_URL.fullmatch(path):
                raise StripeUnavailable(f"Stripe named {url!r} as the rest of a list")
            params: dict[str, Any] = dict(parse_qsl(query))
            params["limit"] = PAGE_SIZE
            if nested.expand:
                params["expand"] = list(nested.expand)
            cursor = last_id(data)
            if cursor is None:
                raise StripeUnavailable(f"Stripe embedded part of {path} with no cursor")
            while cursor is not None:
                body, spent = self.get(path, {**params, "starting_after": cursor})
                pages, requests = pages + 1, requests + spent
                rest, more = listed(path, body)  # more to come always names its cursor
                data = [*data, *rest]
                cursor = last_id(rest) if more else None
            obj[nested.field] = {**embedded, "data": data, "has_more": False}
        return pages, requests

    def exists_before(self, stream: str, before: int) -> tuple[bool, int]:
        """Is there any object created before `before`? One request of one object."""
        spec = STREAMS[stream]
        filters = {k: v for k, v in spec.params.items() if k != "expand"}  # e.g. status=all
        body, requests = self.get(
            f"/v1/{spec.resource}", {**filters, "limit": 1, "created": {"lt": before}}
        )
        data = body.get("data")
        return isinstance(data, list) and len(data) > 0, requests

    def retrieve(
        self, resource: str, object_id: str, expand: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], int, float]:
        """One object's current state, the requests it took and when it was requested."""
        params: dict[str, Any] = {"expand": list(expand)} if expand else {}
        return self.get_timed(f"/v1/{resource}/{quote(object_id, safe='')}", params)

    def account_id(self) -> str | None:
        """The Stripe account this key acts on (`GET /v1/account`); None when the key may
        not read it (a restricted key without that permission)."""
        try:
            body = self.get("/v1/account", {})[0]
        except stripe.PermissionError:
            return None
        found = body.get("id")
        if not isinstance(found, str) or not re.fullmatch(r"acct_[A-Za-z0-9]{1,255}", found):
            raise StripeUnavailable("Stripe answered /v1/account without an account id")
        return found

    def check_key(self) -> int:
        """One cheap call that fails fast on a bad key: list one customer."""
        return self.get("/v1/customers", {"limit": 1})[1]

    def post(self, path: str, params: dict[str, Any], method: str = "post") -> dict[str, Any]:
        """A write (setup only: webhook endpoints); not retried, so never done twice."""
        response = self.client.raw_request(method, path, **self._account(params))
        return _object(path, response.body)

    def _account(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stripe_account": self.stripe_account} if self.stripe_account else (
            params)

    def get(self, path: str, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        body, requests, _ = self.get_timed(path, params)
        return body, requests

    def get_timed(self, path: str, params: dict[str, Any]) -> tuple[dict[str, Any], int, float]:
        """GET through the SDK (auth, API version, typed errors; `raw_get`), parsed once.

        Building StripeObjects costs several times what parsing the JSON does, and the
        mirror stores plain dicts.
        Also returns when the answering attempt was sent (the monotonic guard's clock).
        """
        sent: list[float] = []

        def attempt() -> Any:
            meter = REQUEST_METER.get()
            if meter is not None:
                meter()  # counted before it is sent: a request in flight at a kill counts
            sent.append(time.time())
            return get_body(self.client, path, self._account(params))

        body, requests = self.call(attempt)
        return _object(path, body), requests, sent[-1]

    def call(self, request: Callable[[], Any]) -> tuple[Any, int]:
        """Run `request`, retrying 429 / 5xx / connection errors; return (result, attempts)."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return request(), attempts
            except stripe.StripeError as error:
                if isinstance(error, stripe.RateLimitError) and THROTTLED_TO_CALLER.get():
                    raise Throttled(_describe(error)) from error
                if not _retryable(error) or attempts > self.max_retries:
                    if _retryable(error):
                        raise StripeUnavailable(_describe(error)) from error
                    raise
                self.sleep(self._delay(error, attempts))

    def _delay(self, error: stripe.StripeError, attempt: int) -> float:
        retry_after = (error.headers or {}).get("retry-after")
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                return min(max(float(retry_after), 0.0), self.max_delay)
        backoff: float = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (0.5 + random.random() / 2)


def _object(path: str, raw: bytes | str) -> dict[str, Any]:
    """The body's JSON object; anything else is Stripe misbehaving (retryable)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise StripeUnavailable(f"Stripe answered {path} with invalid JSON") from error
    if not isinstance(body, dict):
        raise StripeUnavailable(f"Stripe answered {path} with a non-object JSON body")
    return body


def _lost_cursor(error: stripe.InvalidRequestError) -> bool:
    api_error = getattr(error, "error", None)
    return (getattr(api_error, "code", None) == "resource_missing"
            and getattr(api_error, "param", None) == "starting_after")


def _retryable(error: stripe.StripeError) -> bool:
    if isinstance(error, RETRYABLE):
        return True
    status = error.http_status or 0
    return status == 409 or status >= 500


def _describe(error: stripe.StripeError) -> str:
    return f"{type(error).__name__} (HTTP {error.http_status}): {error.user_message or ''}".strip()
