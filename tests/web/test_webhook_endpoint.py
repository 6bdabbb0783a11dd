"""`POST /webhooks/stripe/{workspace}` with every bad input, on the real dev server and database.

A refused request must leave no trace: the status and message say why, no database
row changes (every table is compared before and after) and no event workflow exists.
No worker runs in these tests (except the positive control), so a workflow started by
mistake would stay visible. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select
from temporalio.client import Client
from temporalio.service import RetryConfig, RPCError, RPCStatusCode

from fake_stripe import FakeStripeServer
from revsync.events.types import EventResult, event_workflow_id
from revsync.gateway import signatures
from revsync.settings import Settings
from revsync.setup.connection import ConnectError
from revsync.store import db
from revsync.store.models import StripeEvent
from tests.helpers.e2e import connect_workspace, import_emails
from tests.helpers.stripe_objects import customer
from tests.helpers.webhooks import (
    OTHER_SECRET,
    SECRET,
    EventLog,
    post_event,
    signature,
    webhook_client,
)

EMAILS = ["ann@example.com", "ben@example.com"]
NO_MATCH = "no signature matches the expected signature for the payload"
TOO_OLD = "timestamp is outside the tolerance zone"
TOO_NEW = "timestamp is in the future, outside the tolerance zone"
NOW = 1_750_000_000  # the endpoint's clock in the tolerance tests


def unique(prefix: str) -> str:
    """Event workflow ids include the workspace name and live on the shared dev server."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Shop:
    """A connected workspace with subscribers, and a real handled event of its account."""

    name: str
    event: dict[str, Any]  # customer.created for ann@example.com

    @property
    def url(self) -> str:
        return f"/webhooks/stripe/{self.name}"

    @property
    def body(self) -> bytes:
        return orjson.dumps(self.event)

    @property
    def workflow_id(self) -> str:
        return event_workflow_id(self.name, self.event["id"])


@pytest.fixture
def shop(settings: Settings, fake: FakeStripeServer) -> Shop:
    return make_shop(settings, fake, unique("shop"), [SECRET])


def make_shop(settings: Settings, fake: FakeStripeServer, name: str, secrets: list[str]) -> Shop:
    workspace = connect_workspace(settings, name, webhook_secrets=secrets)
    import_emails(settings, workspace, EMAILS)
    log = EventLog(fake.state)
    mark = log.mark()
    customer(fake.state, "ann@example.com")
    [event] = log.since(mark)
    assert event["type"] == "customer.created" and event["id"].startswith("evt_")
    return Shop(name, event)


@pytest.fixture
async def http(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with webhook_client(settings, client) as http:
        yield http


def snapshot(settings: Settings) -> dict[str, list[str]]:
    """Every row of every table, to compare before and after a request."""
    engine = db.get_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def count(settings: Settings, model: type[SQLModel]) -> int:
    with db.session(settings.resolved_database_url) as session:
        return session.exec(select(func.count()).select_from(model)).one()


async def assert_no_workflow(client: Client, workflow_id: str) -> None:
    with pytest.raises(RPCError) as caught:
        await client.get_workflow_handle(workflow_id).describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND


async def assert_no_trace(
    settings: Settings, client: Client, before: dict[str, list[str]], *workflow_ids: str
) -> None:
    """Nothing written, nothing started."""
    assert count(settings, StripeEvent) == 0
    assert len(before["subscriber"]) >= len(EMAILS)  # there are rows that could change
    assert snapshot(settings) == before
    for workflow_id in workflow_ids:
        await assert_no_workflow(client, workflow_id)


def error(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def message(status: int, text: str) -> tuple[int, Any]:
    return status, {"error": {"message": text}}


# --- signature -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="absent"),
    pytest.param({"Stripe-Signature": ""}, id="empty"),
])
async def test_missing_signature_header(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop,
    headers: dict[str, str],
) -> None:
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body,
                               headers={"Content-Type": "application/json", **headers})
    assert error(response) == message(400, "missing Stripe-Signature header")
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_signature_made_with_another_secret(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    before = snapshot(settings)
    response = await post_event(http, shop.name, shop.event, secret=OTHER_SECRET)
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, shop.workflow_id)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> int:
    """The signature check's clock reads NOW; nothing else is affected."""
    monkeypatch.setattr(signatures, "time", SimpleNamespace(time=lambda: float(NOW)))
    return NOW


@pytest.mark.parametrize(("offset", "expected"), [
    pytest.param(-301, TOO_OLD, id="301s-old"),
    pytest.param(301, TOO_NEW, id="301s-in-the-future"),
    pytest.param(-3600, TOO_OLD, id="an-hour-old"),
])
async def test_timestamp_outside_the_tolerance(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop,
    frozen_clock: int, offset: int, expected: str,
) -> None:
    before = snapshot(settings)
    response = await post_event(http, shop.name, shop.event, timestamp=frozen_clock + offset)
    assert error(response) == message(400, expected)
    await assert_no_trace(settings, client, before, shop.workflow_id)


@pytest.mark.parametrize("offset", [-300, 300])
async def test_timestamp_at_the_tolerance_edge_is_accepted(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop,
    frozen_clock: int, offset: int,
) -> None:
    """Signature accepted (an ignored type, so nothing starts either way)."""
    event = {**shop.event, "type": "payment_intent.created"}
    response = await post_event(http, shop.name, event, timestamp=frozen_clock + offset)
    assert response.status_code == 200, response.text


async def test_tolerance_comes_from_the_settings(
    settings: Settings, client: Client, shop: Shop, frozen_clock: int
) -> None:
    strict = settings.model_copy(update={"webhook_tolerance_seconds": 60})
    before = snapshot(settings)
    async with webhook_client(strict, client) as http:
        response = await post_event(http, shop.name, shop.event, timestamp=frozen_clock - 61)
    assert error(response) == message(400, TOO_OLD)
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_body_changed_after_signing(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    signed = signature(shop.body)
    tampered = shop.body.replace(b"ann@example.com", b"ann@example.org")
    assert tampered != shop.body and len(tampered) == len(shop.body)
    before = snapshot(settings)
    response = await http.post(shop.url, content=tampered,
                               headers={"Stripe-Signature": signed})
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_signature_of_another_event_is_rejected(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    """A captured header replayed with a different body."""
    other = orjson.dumps({**shop.event, "id": "evt_other"})
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body,
                               headers={"Stripe-Signature": signature(other)})
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, shop.workflow_id,
                          event_workflow_id(shop.name, "evt_other"))


async def test_oversized_signature_header(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    padded = signature(shop.body) + ",v0=" + "a" * 5000
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body, headers={"Stripe-Signature": padded})
    assert error(response) == message(400, "Stripe-Signature header is too long")
    await assert_no_trace(settings, client, before, shop.workflow_id)


@pytest.mark.parametrize("header", [
    pytest.param(b"v1=abc", id="no-t"),
    pytest.param(b"t=1,t=2,v1=abc", id="two-t"),
    pytest.param(b"t=soon,v1=abc", id="t-letters"),
])
async def test_malformed_signature_header(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop, header: bytes
) -> None:
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body, headers={b"Stripe-Signature": header})
    assert error(response) == message(400, "Stripe-Signature header has no valid timestamp (t=...)")
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_signature_header_with_only_v0(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    v0 = signature(shop.body).replace(",v1=", ",v0=")
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body, headers={"Stripe-Signature": v0})
    assert error(response) == message(400, "Stripe-Signature header has no v1 signature")
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_superscript_digit_timestamp_is_a_400(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    """Byte 0xB2 is legal in a header value; Starlette decodes it as Latin-1 '²'."""
    before = snapshot(settings)
    response = await http.post(shop.url, content=shop.body,
                               headers={b"Stripe-Signature": b"t=\xb2,v1=abc"})
    assert error(response) == message(400, "Stripe-Signature header has no valid timestamp (t=...)")
    await assert_no_trace(settings, client, before, shop.workflow_id)


# --- workspace -------------------------------------------------------------------------------


async def test_unknown_workspace(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    name = unique("nosuch")
    before = snapshot(settings)
    response = await post_event(http, name, shop.event)
    assert error(response) == message(400, NO_MATCH)  # as a workspace's without its secret
    await assert_no_trace(settings, client, before, shop.workflow_id,
                          event_workflow_id(name, shop.event["id"]))


@pytest.mark.parametrize("name", [
    pytest.param("bad name", id="space"),
    pytest.param("-shop", id="leading-dash"),
    pytest.param(".shop", id="leading-dot"),
    pytest.param("shop$", id="dollar"),
    pytest.param("sh\u00f6p", id="unicode"),
    pytest.param("shop;1", id="semicolon"),
    pytest.param("s" * 101, id="101-chars"),
])
async def test_illegal_workspace_name(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop, name: str
) -> None:
    before = snapshot(settings)
    response = await post_event(http, name, shop.event)
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, shop.workflow_id,
                          event_workflow_id(name, shop.event["id"]))


async def test_a_workspace_name_the_endpoint_cannot_route_cannot_be_created(
    settings: Settings, client: Client, http: httpx.AsyncClient, fake: FakeStripeServer
) -> None:
    """`connect` refuses the name; the endpoint refuses it without a lookup."""
    with pytest.raises(ConnectError, match="workspace names are"):
        make_shop(settings, fake, unique("odd shop"), [SECRET])
    shop = make_shop(settings, fake, unique("shop"), [SECRET])
    before = snapshot(settings)
    response = await post_event(http, "odd shop", shop.event)
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, shop.workflow_id)


async def test_workspace_without_webhook_secret(
    settings: Settings, client: Client, http: httpx.AsyncClient, fake: FakeStripeServer
) -> None:
    bare = make_shop(settings, fake, unique("bare"), [])
    before = snapshot(settings)
    response = await post_event(http, bare.name, bare.event)
    assert error(response) == message(400, NO_MATCH)  # as if it had one: names stay unknown
    await assert_no_trace(settings, client, before, bare.workflow_id)


async def test_event_of_workspace_a_posted_to_workspace_b(
    settings: Settings, client: Client, http: httpx.AsyncClient, fake: FakeStripeServer
) -> None:
    """Signed with A's secret, sent to B's URL: B's secret does not match."""
    a = make_shop(settings, fake, unique("a"), [SECRET])
    b = make_shop(settings, fake, unique("b"), [OTHER_SECRET])
    before = snapshot(settings)
    response = await post_event(http, b.name, a.event, secret=SECRET)
    assert error(response) == message(400, NO_MATCH)
    await assert_no_trace(settings, client, before, a.workflow_id, b.workflow_id,
                          event_workflow_id(b.name, a.event["id"]))


async def test_a_workspace_name_cannot_be_probed(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop,
    fake: FakeStripeServer,
) -> None:
    """Whoever lacks a workspace's secret gets, for the same request, the same answer from
    a workspace that exists, one that exists without a secret, one that does not, and a
    name no workspace can have: nothing tells which names are workspaces."""
    bare = make_shop(settings, fake, unique("bare"), [])
    now = int(time.time())
    requests: list[dict[str, str]] = [
        {},
        {"Stripe-Signature": signature(shop.body, OTHER_SECRET)},
        {"Stripe-Signature": signature(shop.body, OTHER_SECRET, timestamp=now - 3600)},
        {"Stripe-Signature": "t=soon,v1=abc"},
    ]
    before = snapshot(settings)
    for headers in requests:
        answers = set()
        for name in (shop.name, bare.name, unique("nosuch"), "bad name"):
            response = await http.post(f"/webhooks/stripe/{name}", content=shop.body,
                                       headers=headers)
            answers.add((response.status_code, response.text))
        assert len(answers) == 1, (headers, answers)
        assert next(iter(answers))[0] == 400
    await assert_no_trace(settings, client, before, shop.workflow_id, bare.workflow_id)


# --- body ------------------------------------------------------------------------------------


async def test_malformed_json_correctly_signed(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    before = snapshot(settings)
    response = await post_event(http, shop.name, shop.body[:-1])
    status, body = error(response)
    assert status == 400
    assert body["error"]["message"].startswith("body is not JSON: ")
    await assert_no_trace(settings, client, before, shop.workflow_id)


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(b"[]", "body is not a JSON object", id="array"),
    pytest.param(b'{"hello": "world"}', "`id` must be an event id (evt_...)", id="no-id"),
    pytest.param(b'{"id": "evt_1", "type": "customer.created", "created": "soon",'
                 b' "data": {"object": {"id": "cus_1"}}}',
                 "`created` must be a unix timestamp", id="created-string"),
    pytest.param(b'{"id": "evt_1", "type": "customer.created", "created": 1,'
                 b' "data": {"object": ["cus_1"]}}',
                 "`data.object` must be an object", id="object-list"),
    pytest.param(b'{"id": "evt_1/../x", "type": "customer.created", "created": 1,'
                 b' "data": {"object": {"id": "cus_1"}}}',
                 "`id` must be an event id (evt_...)", id="id-path"),
])
async def test_json_that_is_not_an_event(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop,
    body: bytes, expected: str,
) -> None:
    before = snapshot(settings)
    response = await post_event(http, shop.name, body)
    assert error(response) == message(400, expected)
    await assert_no_trace(settings, client, before, shop.workflow_id,
                          event_workflow_id(shop.name, "evt_1"))


@pytest.fixture
def small(settings: Settings) -> Settings:
    """Settings is frozen: `model_copy` makes a changed copy."""
    copy = settings.model_copy(update={"webhook_max_body_bytes": 2048})
    assert (copy.webhook_max_body_bytes, settings.webhook_max_body_bytes) == (2048, 512 * 1024)
    return copy


def padded(event: dict[str, Any], size: int) -> bytes:
    """The event's JSON followed by spaces (still valid JSON), `size` bytes in all."""
    body = orjson.dumps(event)
    assert len(body) < size
    return body.ljust(size)


async def test_body_larger_than_the_limit(
    small: Settings, client: Client, shop: Shop
) -> None:
    before = snapshot(small)
    async with webhook_client(small, client) as http:
        response = await post_event(http, shop.name, padded(shop.event, 2049))
    assert error(response) == message(413, "body larger than 2048 bytes")
    await assert_no_trace(small, client, before, shop.workflow_id)


async def test_streamed_body_larger_than_the_limit(
    small: Settings, client: Client, shop: Shop
) -> None:
    """Without Content-Length the limit is enforced while reading."""
    body = padded(shop.event, 3000)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start:start + 500]

    before = snapshot(small)
    async with webhook_client(small, client) as http:
        response = await http.post(shop.url, content=chunks(),
                                   headers={"Stripe-Signature": signature(body)})
    assert "content-length" not in response.request.headers
    assert error(response) == message(413, "body larger than 2048 bytes")
    await assert_no_trace(small, client, before, shop.workflow_id)


async def test_lying_content_length_is_refused_up_front(
    small: Settings, client: Client, shop: Shop
) -> None:
    before = snapshot(small)
    async with webhook_client(small, client) as http:
        response = await http.post(shop.url, content=shop.body, headers={
            "Stripe-Signature": signature(shop.body), "Content-Length": "999999"})
    assert error(response) == message(413, "body larger than 2048 bytes")
    await assert_no_trace(small, client, before, shop.workflow_id)


async def test_body_exactly_at_the_limit_is_read(
    small: Settings, client: Client, shop: Shop
) -> None:
    ignored = {**shop.event, "type": "payment_intent.created"}
    before = snapshot(small)
    async with webhook_client(small, client) as http:
        response = await post_event(http, shop.name, padded(ignored, 2048))
    assert (response.status_code, response.json()) == (
        200, {"received": True, "ignored": "type payment_intent.created not handled"})
    await assert_no_trace(small, client, before, shop.workflow_id)


# --- method ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_are_not_allowed(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop, method: str
) -> None:
    """Starlette's router answers, in plain text (not the endpoint's JSON errors)."""
    before = snapshot(settings)
    response = await http.request(method, shop.url, content=shop.body,
                                  headers={"Stripe-Signature": signature(shop.body)})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.text == "Method Not Allowed"
    await assert_no_trace(settings, client, before, shop.workflow_id)


# --- accepted but ignored --------------------------------------------------------------------


async def test_ignored_event_type(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    event = {**shop.event, "id": "evt_ignored1", "type": "payment_intent.created"}
    before = snapshot(settings)
    response = await post_event(http, shop.name, event)
    assert (response.status_code, response.json()) == (
        200, {"received": True, "ignored": "type payment_intent.created not handled"})
    await assert_no_trace(settings, client, before, event_workflow_id(shop.name, "evt_ignored1"))


async def test_handled_event_without_an_object_to_refetch(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    """A guest checkout names no customer: acknowledged, nothing started."""
    event = {**shop.event, "id": "evt_guest1", "type": "checkout.session.completed",
             "data": {"object": {"id": "cs_test_1", "object": "checkout.session",
                                 "customer": None}}}
    before = snapshot(settings)
    response = await post_event(http, shop.name, event)
    assert (response.status_code, response.json()) == (
        200, {"received": True, "ignored": "no object to refetch"})
    await assert_no_trace(settings, client, before, event_workflow_id(shop.name, "evt_guest1"))


# --- Temporal away ---------------------------------------------------------------------------


class Proxy:
    """A TCP relay to the dev server that can be cut, as if the server went away."""

    def __init__(self, target: str) -> None:
        self.host, port = target.rsplit(":", 1)
        self.port = int(port)
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_temporal_unreachable_is_a_503(
    settings: Settings, client: Client, shop: Shop
) -> None:
    """Stripe retries a 5xx, so the event is not lost while Temporal is away."""
    proxy = Proxy(client.service_client.config.target_host)
    away = await Client.connect(
        await proxy.start(),
        namespace=client.namespace,
        data_converter=client.data_converter,
        retry_config=RetryConfig(initial_interval_millis=10, max_interval_millis=50,
                                 max_retries=1, max_elapsed_time_millis=300),
    )
    await proxy.cut()
    before = snapshot(settings)
    async with webhook_client(settings, away) as http:
        response = await post_event(http, shop.name, shop.event)
    assert error(response) == message(503, "could not start the event workflow: UNAVAILABLE")
    await assert_no_trace(settings, client, before, shop.workflow_id)


# --- positive control ------------------------------------------------------------------------


@pytest.mark.usefixtures("workers")
async def test_correct_event_starts_a_workflow_that_completes(
    settings: Settings, client: Client, http: httpx.AsyncClient, shop: Shop
) -> None:
    """The same request the tests above break, unbroken: the checks above can see a trace."""
    response = await post_event(http, shop.name, shop.event)
    assert (response.status_code, response.json()) == (
        200, {"received": True, "workflow_id": shop.workflow_id, "duplicate": False})
    assert shop.workflow_id == f"stripe-event/{shop.name}/{shop.event['id']}"
    result = await client.get_workflow_handle(shop.workflow_id, result_type=EventResult).result()
    assert result.outcome == "applied"
    with db.session(settings.resolved_database_url) as session:
        recorded = session.exec(select(StripeEvent)).all()
    assert [(e.id, e.type, e.outcome) for e in recorded] == [
        (shop.event["id"], "customer.created", "applied")]
    again = await post_event(http, shop.name, shop.event)
    assert (again.status_code, again.json()) == (
        200, {"received": True, "workflow_id": shop.workflow_id, "duplicate": True})
