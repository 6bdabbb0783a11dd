"""Webhook endpoints (CRUD through the SDK) and signed delivery to a loopback receiver."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
import stripe

from fake_stripe import API_VERSION, DEFAULT_API_KEY, FakeStripe, FakeStripeServer
from fake_stripe.delivery import WebhookDelivery
from fake_stripe.fixtures import fixture_keys
from fake_stripe.signing import sign
from fake_stripe.testing import stripe_client

OLD_VERSION = "2024-06-20"


@dataclass(frozen=True)
class Received:
    """One request the receiver accepted as genuinely signed."""

    path: str
    event: dict[str, Any]
    content_type: str | None
    signed_at: int
    answered: int


class Receiver:
    """A loopback webhook endpoint that verifies every request as an app would.

    Each path has its own secret (one endpoint per path); scripted statuses per path
    are answered first, then 200.
    """

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.script: dict[str, deque[int]] = {}
        self.received: list[Received] = []
        self.rejected = 0
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """The endpoint URL for ``path`` on this receiver."""
        return f"http://127.0.0.1:{self._http.server_address[1]}{path}"

    def events(self, path: str) -> list[tuple[str, str]]:
        """(event id, type) pairs received at ``path``, in arrival order."""
        with self._lock:
            return [(r.event["id"], r.event["type"]) for r in self.received if r.path == path]

    def close(self) -> None:
        """Stop serving."""
        self._http.shutdown()
        self._http.server_close()

    def _answer(self, path: str, body: bytes, headers: Any) -> int:
        header = headers.get("Stripe-Signature")
        try:
            stripe.WebhookSignature.verify_header(
                body.decode(), header, self.secrets.get(path), tolerance=300)
        except stripe.SignatureVerificationError:
            with self._lock:
                self.rejected += 1
            return 400
        with self._lock:
            pending = self.script.get(path)
            status = pending.popleft() if pending else 200
            self.received.append(Received(
                path=path,
                event=orjson.loads(body),
                content_type=headers.get("Content-Type"),
                signed_at=int(header.split(",")[0].removeprefix("t=")),
                answered=status,
            ))
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._answer(self.path, body, self.headers)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A fresh loopback receiver."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooks() -> Iterator[FakeStripeServer]:
    """An empty account with fast retries, so every event in a test is the test's own."""
    state = FakeStripe(api_keys=[DEFAULT_API_KEY])
    delivery = WebhookDelivery(state, max_attempts=3, base_delay=0.02)
    with FakeStripeServer(state, delivery=delivery) as server:
        yield server


@pytest.fixture
def api(hooks: FakeStripeServer) -> stripe.StripeClient:
    """SDK client for ``hooks``."""
    return stripe_client(hooks)


def delivery_of(server: FakeStripeServer) -> WebhookDelivery:
    assert server.delivery is not None
    return server.delivery


def endpoint(api: stripe.StripeClient, receiver: Receiver, path: str, events: list[Any],
             **extra: Any) -> stripe.WebhookEndpoint:
    """Create an endpoint pointing at ``receiver`` and register its secret there."""
    params: Any = {"url": receiver.url(path), "enabled_events": events, **extra}
    created = api.v1.webhook_endpoints.create(params=params)
    assert created.secret is not None
    receiver.secrets[path] = created.secret
    return created


def new_customer(api: stripe.StripeClient, email: str) -> str:
    """Create a customer; returns the id of the ``customer.created`` event."""
    customer = api.v1.customers.create(params={"email": email})
    events = api.v1.events.list(params={"types": ["customer.created"], "limit": 100}).data
    return next(e.id for e in events if e.data.object["id"] == customer.id)


# ---- endpoints ---------------------------------------------------------------------

def test_endpoint_crud_through_the_sdk(hooks: FakeStripeServer,
                                       api: stripe.StripeClient) -> None:
    first = api.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hooks/stripe",
        "enabled_events": ["customer.created", "invoice.paid"],
        "description": "revenue sync",
        "metadata": {"team": "billing"},
        "api_version": API_VERSION,
    })
    assert set(first.to_dict()) == fixture_keys("webhook_endpoint") | {"secret"}
    assert first.id.startswith("we_") and first.secret is not None
    assert first.secret.startswith("whsec_") and len(first.secret) == 38
    assert (first.status, first.url, first.api_version) == (
        "enabled", "https://example.com/hooks/stripe", API_VERSION)
    assert first.enabled_events == ["customer.created", "invoice.paid"]
    assert first.to_dict()["metadata"] == {"team": "billing"}
    assert first.description == "revenue sync"
    second = api.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/x", "enabled_events": ["*"]})
    assert second.api_version is None and second.description is None

    got = api.v1.webhook_endpoints.retrieve(first.id).to_dict()
    assert "secret" not in got and set(got) == fixture_keys("webhook_endpoint")
    assert got["enabled_events"] == ["customer.created", "invoice.paid"]

    page = api.v1.webhook_endpoints.list()
    assert [e.id for e in page.data] == [second.id, first.id]
    assert all("secret" not in e.to_dict() for e in page.data)
    one = api.v1.webhook_endpoints.list(params={"limit": 1})
    assert [e.id for e in one.data] == [second.id] and one.has_more is True
    rest = api.v1.webhook_endpoints.list(params={"limit": 1, "starting_after": second.id})
    assert [e.id for e in rest.data] == [first.id] and rest.has_more is False

    updated = api.v1.webhook_endpoints.update(first.id, params={
        "url": "https://example.com/v2", "enabled_events": ["*"], "disabled": True,
        "description": "", "metadata": {"team": "", "env": "test"},
    })
    assert "secret" not in updated.to_dict()
    assert (updated.status, updated.url, updated.description) == (
        "disabled", "https://example.com/v2", None)
    assert updated.enabled_events == ["*"]
    assert updated.to_dict()["metadata"] == {"env": "test"}
    enabled = api.v1.webhook_endpoints.update(first.id, params={"disabled": False})
    assert enabled.status == "enabled"

    secrets = {e["id"]: e["secret"] for e in hooks.state.webhook_endpoints()}
    assert secrets == {first.id: first.secret, second.id: second.secret}

    deleted = api.v1.webhook_endpoints.delete(second.id)
    assert deleted.to_dict() == {"id": second.id, "object": "webhook_endpoint", "deleted": True}
    assert [e.id for e in api.v1.webhook_endpoints.list().data] == [first.id]
    assert hooks.state.count("event") == 0  # endpoint changes emit no events


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"enabled_events": ["*"]}, "url", "parameter_missing"),
        ({"url": "ftp://example.com/hook", "enabled_events": ["*"]}, "url", "url_invalid"),
        ({"url": "example.com/hook", "enabled_events": ["*"]}, "url", "url_invalid"),
        ({"url": "https://example.com/hook"}, "enabled_events", "parameter_missing"),
        ({"url": "https://example.com/hook", "enabled_events": []}, "enabled_events",
         "parameter_missing"),
        ({"url": "https://example.com/hook", "enabled_events": ["*", "not an event"]},
         "enabled_events[1]", "parameter_invalid"),
        ({"url": "https://example.com/hook", "enabled_events": ["*"], "api_version": "v9"},
         "api_version", "parameter_invalid"),
        ({"url": "https://example.com/hook", "enabled_events": ["*"], "colour": "red"},
         "colour", "parameter_unknown"),
    ],
)
def test_create_rejects_bad_params(api: stripe.StripeClient, params: dict[str, Any],
                                   param: str, code: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        api.v1.webhook_endpoints.create(params=params)  # type: ignore[arg-type]
    assert (info.value.http_status, info.value.param, info.value.code) == (400, param, code)
    assert api.v1.webhook_endpoints.list().data == []


def test_unknown_endpoint_is_404(api: stripe.StripeClient) -> None:
    calls: list[Callable[[], object]] = [
        lambda: api.v1.webhook_endpoints.retrieve("we_missing"),
        lambda: api.v1.webhook_endpoints.update("we_missing", params={"disabled": True}),
        lambda: api.v1.webhook_endpoints.delete("we_missing"),
    ]
    for call in calls:
        with pytest.raises(stripe.InvalidRequestError) as info:
            call()
        assert (info.value.http_status, info.value.code) == (404, "resource_missing")
        assert str(info.value.user_message) == "No such webhook_endpoint: 'we_missing'"
    with pytest.raises(stripe.InvalidRequestError) as cursor:
        api.v1.webhook_endpoints.list(params={"starting_after": "we_missing"})
    assert (cursor.value.http_status, cursor.value.param) == (400, "starting_after")


def test_sign_matches_the_sdk() -> None:
    body = b'{"id":"evt_1","object":"event"}'
    expected = stripe.WebhookSignature.generate_signature_header(
        body.decode(), "whsec_test", timestamp=1_700_000_000)
    assert sign(body, "whsec_test", 1_700_000_000) == expected


# ---- delivery ----------------------------------------------------------------------

def test_delivery_is_signed_filtered_and_ordered(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    only_created = endpoint(api, receiver, "/created", ["customer.created"])
    everything = endpoint(api, receiver, "/all", ["*"], api_version=OLD_VERSION)
    products = endpoint(api, receiver, "/products", ["product.created"])
    started = int(time.time())
    customer = api.v1.customers.create(params={"email": "a@example.com"})
    api.v1.customers.update(customer.id, params={"name": "Ada"})
    api.v1.products.create(params={"name": "Pro"})
    delivery = delivery_of(hooks)
    assert delivery.flush(5)

    emitted = [(e.id, e.type) for e in reversed(api.v1.events.list().data)]
    assert [t for _, t in emitted] == ["customer.created", "customer.updated", "product.created"]
    assert receiver.events("/all") == emitted
    assert receiver.events("/created") == emitted[:1]
    assert receiver.events("/products") == emitted[2:]
    assert receiver.rejected == 0
    now = time.time()
    for got in receiver.received:
        assert got.content_type == "application/json" and started <= got.signed_at <= now
        want = OLD_VERSION if got.path == "/all" else API_VERSION
        assert got.event["api_version"] == want
    created = next(r.event for r in receiver.received if r.path == "/created")
    assert created["data"]["object"]["id"] == customer.id
    assert created["data"]["object"]["email"] == "a@example.com"

    assert all(delivery.delivered(event_id) for event_id, _ in emitted)
    # one queue: event by event, each to its endpoints oldest first
    assert [(a.endpoint_id, a.event_id, a.status, a.attempt) for a in delivery.attempts] == [
        (only_created.id, emitted[0][0], 200, 1),
        (everything.id, emitted[0][0], 200, 1),
        (everything.id, emitted[1][0], 200, 1),
        (everything.id, emitted[2][0], 200, 1),
        (products.id, emitted[2][0], 200, 1),
    ]


def test_disabled_endpoint_gets_nothing(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    hook = endpoint(api, receiver, "/hook", ["customer.created"])
    api.v1.webhook_endpoints.update(hook.id, params={"disabled": True})
    muted = new_customer(api, "muted@example.com")
    delivery = delivery_of(hooks)
    assert delivery.flush(5)
    assert receiver.events("/hook") == [] and delivery.attempts == []
    assert not delivery.delivered(muted)

    api.v1.webhook_endpoints.update(hook.id, params={"disabled": False})
    heard = new_customer(api, "heard@example.com")
    assert delivery.flush(5)
    assert receiver.events("/hook") == [(heard, "customer.created")]


def test_failed_attempts_are_retried_in_order(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    hook = endpoint(api, receiver, "/hook", ["customer.created"])
    receiver.script["/hook"] = deque([500, 503])
    delivery = delivery_of(hooks)
    delivery.pause()  # both events queue up before the first attempt
    first = new_customer(api, "one@example.com")
    second = new_customer(api, "two@example.com")
    delivery.resume()
    assert delivery.flush(5)

    assert receiver.events("/hook") == [(first, "customer.created")] * 3 + [
        (second, "customer.created")]
    assert [r.answered for r in receiver.received] == [500, 503, 200, 200]
    attempts = [(a.event_id, a.endpoint_id, a.attempt, a.status, a.error)
                for a in delivery.attempts]
    assert attempts == [
        (first, hook.id, 1, 500, None),
        (first, hook.id, 2, 503, None),
        (first, hook.id, 3, 200, None),
        (second, hook.id, 1, 200, None),
    ]
    assert delivery.delivered(first) and delivery.delivered(second)


def test_unreachable_endpoint_gives_up_after_max_attempts(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    dead = api.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/nothing-listens", "enabled_events": ["*"]})
    endpoint(api, receiver, "/alive", ["customer.created"])
    event_id = new_customer(api, "lost@example.com")
    delivery = delivery_of(hooks)
    assert delivery.flush(10)

    failed = [a for a in delivery.attempts if a.endpoint_id == dead.id]
    assert [(a.event_id, a.attempt, a.status) for a in failed] == [
        (event_id, 1, None), (event_id, 2, None), (event_id, 3, None)]
    assert all(a.error and a.error.startswith("ConnectError") for a in failed)
    assert receiver.events("/alive") == [(event_id, "customer.created")]
    assert delivery.delivered(event_id)  # the live endpoint acknowledged it


def test_pause_queues_and_resume_sends(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    endpoint(api, receiver, "/hook", ["customer.created"])
    delivery = delivery_of(hooks)
    delivery.pause()
    ids = [new_customer(api, f"c{i}@example.com") for i in range(3)]
    assert delivery.flush(0.2) is False
    assert (delivery.paused, delivery.pending) == (True, 3)
    assert receiver.events("/hook") == [] and delivery.attempts == []
    assert not any(delivery.delivered(i) for i in ids)

    delivery.resume()
    assert delivery.flush(5) is True
    assert (delivery.paused, delivery.pending) == (False, 0)
    assert receiver.events("/hook") == [(i, "customer.created") for i in ids]
    assert all(delivery.delivered(i) for i in ids)


def test_deleted_endpoint_stops_receiving(
    hooks: FakeStripeServer, api: stripe.StripeClient, receiver: Receiver
) -> None:
    hook = endpoint(api, receiver, "/hook", ["customer.created"])
    before = new_customer(api, "before@example.com")
    delivery = delivery_of(hooks)
    assert delivery.flush(5)
    delivery.pause()
    queued = new_customer(api, "queued@example.com")  # queued, then its endpoint goes
    api.v1.webhook_endpoints.delete(hook.id)
    after = new_customer(api, "after@example.com")
    delivery.resume()
    assert delivery.flush(5)

    assert receiver.events("/hook") == [(before, "customer.created")]
    assert [a.event_id for a in delivery.attempts] == [before]
    assert not delivery.delivered(queued) and not delivery.delivered(after)


def test_python_api_endpoint_and_store_mutations(receiver: Receiver) -> None:
    state = FakeStripe(api_keys=[DEFAULT_API_KEY])
    delivery = WebhookDelivery(state, max_attempts=1).start()
    try:
        created = state.webhooks.create(receiver.url("/py"), ["customer.created"])
        receiver.secrets["/py"] = created["secret"]
        assert state.webhook_endpoints()[0]["secret"] == created["secret"]
        customer = state.put("customer", {"email": "py@example.com"})
        assert delivery.flush(5)
        (got,) = receiver.received
        assert got.event["type"] == "customer.created"
        assert got.event["data"]["object"]["id"] == customer["id"]
        assert delivery.delivered(got.event["id"])
    finally:
        delivery.stop()
    state.put("customer", {"email": "late@example.com"})  # stopped: no longer listening
    assert delivery.pending == 0


def test_fake_deliveries_route(hooks: FakeStripeServer, api: stripe.StripeClient,
                               receiver: Receiver, seeded_server: FakeStripeServer) -> None:
    hook = endpoint(api, receiver, "/hook", ["customer.created"])
    event_id = new_customer(api, "route@example.com")
    assert delivery_of(hooks).flush(5)
    body = httpx.get(f"{hooks.base_url}/_fake/deliveries").json()
    assert (body["pending"], body["paused"]) == (0, False)
    (row,) = body["deliveries"]
    assert {k: row[k] for k in ("event_id", "event_type", "endpoint_id", "status", "ok")} == {
        "event_id": event_id, "event_type": "customer.created", "endpoint_id": hook.id,
        "status": 200, "ok": True}
    assert httpx.delete(f"{hooks.base_url}/_fake/deliveries").json() == {"cleared": True}
    assert httpx.get(f"{hooks.base_url}/_fake/deliveries").json()["deliveries"] == []
    # a server started without delivery has no such route
    assert httpx.get(f"{seeded_server.base_url}/_fake/deliveries").status_code == 404


def test_server_flag_starts_and_stops_delivery() -> None:
    with FakeStripeServer(FakeStripe(api_keys=[DEFAULT_API_KEY]), deliver_webhooks=True) as server:
        delivery = delivery_of(server)
        assert delivery.flush(1)
    server.state.webhooks.create("http://127.0.0.1:9/x", ["*"])
    server.state.put("customer", {"email": "after-stop@example.com"})
    assert delivery.pending == 0 and delivery.attempts == []
    assert FakeStripeServer(FakeStripe()).delivery is None


def test_webhook_payloads_embed_ten_items_like_stripe(receiver: Receiver) -> None:
    """The event sent is cut like an API answer; the stored event stays whole."""
    state = FakeStripe(api_keys=[DEFAULT_API_KEY])
    recurring = {"interval": "month", "interval_count": 1, "usage_type": "licensed",
                 "meter": None, "trial_period_days": None}
    prices = [state.put("price", {"unit_amount": 100 + n, "currency": "usd",
                                  "recurring": recurring})["id"] for n in range(12)]
    customer = state.put("customer", {"email": "wide@example.com"})["id"]
    delivery = WebhookDelivery(state, max_attempts=1).start()
    try:
        created = state.webhooks.create(receiver.url("/wide"),
                                        ["customer.subscription.created"])
        receiver.secrets["/wide"] = created["secret"]
        sub = state.put("subscription", {"customer": customer,
                                         "items": [{"price": p} for p in prices]})
        assert delivery.flush(5)
    finally:
        delivery.stop()
    (got,) = receiver.received
    items = got.event["data"]["object"]["items"]
    stored = [i["id"] for i in state.record("subscription", sub["id"])["items"]]
    assert [i["id"] for i in items["data"]] == stored[:10]
    assert items["has_more"] is True and items["total_count"] == 12
    assert items["url"] == f"/v1/subscription_items?subscription={sub['id']}"
    event = state.retrieve("event", got.event["id"])
    assert len(event["data"]["object"]["items"]["data"]) == 12
