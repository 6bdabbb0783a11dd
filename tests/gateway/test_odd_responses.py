"""Odd answers from a Stripe-compatible server: a clear error or a counted skip, never a
silently shortened stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from revsync.gateway.stripe_api import StripeGateway, StripeUnavailable


class OddServer(ThreadingHTTPServer):
    body: bytes = b"{}"
    status: int = 200
    # Another body for one path (its query aside), and every path asked for, in order.
    bodies: dict[str, bytes]
    paths: list[str]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, OddServer)
        path = self.path.partition("?")[0]
        self.server.paths.append(path)
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.server.bodies.get(path, self.server.body))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def odd() -> Iterator[OddServer]:
    server = OddServer(("127.0.0.1", 0), Handler)
    server.bodies, server.paths = {}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def gateway(server: OddServer) -> StripeGateway:
    host, port = server.server_address[:2]
    return StripeGateway("sk_test_odd", api_base=f"http://{host!s}:{port}", max_retries=1,
                         sleep=lambda _: None)


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'{"object": "list"}', b'{"data": "nope", "has_more": false}',
    b'{"data": [], "has_more": "yes"}',
])
def test_malformed_lists_are_errors_not_short_streams(odd: OddServer, body: bytes) -> None:
    odd.body = body
    with pytest.raises(StripeUnavailable):
        gateway(odd).list_page("customers", None)


def test_non_objects_in_a_list_are_counted_and_skipped(odd: OddServer) -> None:
    odd.body = b'{"data": [{"id": "cus_1"}, 5, null, {"no": "id"}], "has_more": false}'
    page = gateway(odd).list_page("customers", None)
    assert page.malformed == 2
    assert page.last_id == "cus_1" and len(page.objects) == 2


def test_more_to_come_without_a_cursor_is_an_error(odd: OddServer) -> None:
    odd.body = b'{"data": [{"no": "id"}], "has_more": true}'
    with pytest.raises(StripeUnavailable, match="no cursor"):
        gateway(odd).list_page("customers", None)


@pytest.mark.parametrize(("status", "body", "error"), [
    (502, b"<html>Bad gateway</html>", StripeUnavailable),  # retried, then given up
    (404, b'{"error": {"type": "invalid_request_error", "message": "No such charge"}}',
     stripe.InvalidRequestError),
    (401, b'{"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}',
     stripe.AuthenticationError),
    (401, b"not json either", StripeUnavailable),  # unreadable: the SDK's APIError, retried
])
def test_error_answers_keep_the_sdks_error_types(odd: OddServer, status: int, body: bytes,
                                                  error: type[Exception]) -> None:
    odd.status, odd.body = status, body
    with pytest.raises(error):
        gateway(odd).list_page("customers", None)


def subscriptions_page(items: str) -> bytes:
    """A page of one subscription whose `items` list is `items` (JSON)."""
    return (b'{"data": [{"id": "sub_1", "object": "subscription", "items": ' + items.encode()
            + b'}], "has_more": false}')


PART_OF_ITEMS = ('{"object": "list", "data": [{"id": "si_1"}], "has_more": true, '
                 '"url": "%s"}')


@pytest.mark.parametrize("url", [
    "/v1/customers", "http://169.254.169.254/v1/subscription_items", "/v1/subscription_items/x",
    "//evil.example/v1/subscription_items", "/v1/invoices/in_1/lines/../../customers",
])
def test_a_nested_list_is_paged_only_from_stripes_list_endpoints(odd: OddServer,
                                                                 url: str) -> None:
    odd.body = subscriptions_page(PART_OF_ITEMS % url)
    with pytest.raises(StripeUnavailable, match="as the rest of a list"):
        gateway(odd).list_page("subscriptions", None)
    assert odd.paths == ["/v1/subscriptions"]  # nothing was asked of that address


@pytest.mark.parametrize("rest", [
    b"not json", b'{"data": "nope", "has_more": false}', b'{"data": [], "has_more": true}',
    b'{"data": [{"id": "si_2"}]}',
])
def test_a_malformed_rest_of_a_nested_list_is_an_error_not_a_short_list(
        odd: OddServer, rest: bytes) -> None:
    odd.body = subscriptions_page(PART_OF_ITEMS % "/v1/subscription_items?subscription=sub_1")
    odd.bodies["/v1/subscription_items"] = rest
    with pytest.raises(StripeUnavailable):
        gateway(odd).list_page("subscriptions", None)


@pytest.mark.parametrize("items", [
    '{"object": "list", "data": [{"id": "si_1"}], "has_more": true}',  # no url
    '{"object": "list", "data": "nope", "has_more": true, "url": "/v1/subscription_items"}',
    '"items"', 'null',
])
def test_an_odd_nested_list_is_left_for_the_revenue_definitions_to_count(
        odd: OddServer, items: str) -> None:
    odd.body = subscriptions_page(items)
    page = gateway(odd).list_page("subscriptions", None)
    assert (page.requests, page.nested_pages) == (1, 0)
    assert odd.paths == ["/v1/subscriptions"]


def test_the_rest_of_a_nested_list_is_read_to_its_end_and_counted(odd: OddServer) -> None:
    odd.body = subscriptions_page(PART_OF_ITEMS % "/v1/subscription_items?subscription=sub_1")
    odd.bodies["/v1/subscription_items"] = b'{"data": [{"id": "si_2"}], "has_more": false}'
    page = gateway(odd).list_page("subscriptions", None)
    (subscription,) = page.objects
    assert [i["id"] for i in subscription["items"]["data"]] == ["si_1", "si_2"]
    assert subscription["items"]["has_more"] is False
    assert (page.requests, page.nested_pages) == (2, 1)
