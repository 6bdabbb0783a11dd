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


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, OddServer)
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def odd() -> Iterator[OddServer]:
    server = OddServer(("127.0.0.1", 0), Handler)
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
