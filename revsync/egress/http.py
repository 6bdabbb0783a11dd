"""One POST to a URL a workspace gave, bounded every way: the address it connects to is
one the policy checked, redirects are answers (never followed), one deadline covers the
whole attempt, the answer is read up to a cap, and what went wrong is told as a category.

How the address is pinned: the request goes through httpcore with a network backend of
our own, which is where the socket is opened. It resolves the host once, checks every
address, and connects to a checked one; nothing resolves the name again, so DNS cannot
answer differently between the check and the connection (rebinding). The URL keeps its
name, so TLS sends it as SNI and verifies the certificate against it, and the Host header
is the one written. (Rewriting the URL to the address and setting Host and
`sni_hostname` does the same per request, but a connection pool keyed by address could
then hand one name's verified connection to another name; here every attempt has its
own pool of one connection.)

How the deadline holds: a per-read timeout lets a receiver that sends a byte a second
keep an attempt going for ever. Every read and write on the connection (and the
connect and TLS handshake) is given the time left to the one deadline instead, and fails
once it has passed. Resolution has no timeout of its own; it runs in a thread that is
waited for only as long as there is time left (`policy.resolve`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

import httpcore

from revsync.egress.policy import (
    Policy,
    Refused,
    Unresolved,
    checked_addresses,
    destination,
)

MAX_RESPONSE_BYTES = 64 * 1024
# What a failed attempt records and shows: categories, never the network's own words
# (an OS error names ports that refused and hosts that did not answer).
URL_NOT_ALLOWED = "refused: URL not allowed"
ADDRESS_NOT_ALLOWED = "refused: address not allowed"
UNRESOLVED = "could not resolve the host"
CONNECTION_FAILED = "connection failed"
TIMED_OUT = "timed out"
INVALID_RESPONSE = "invalid response"
TOO_LARGE = "response too large"


@dataclass(frozen=True)
class Answer:
    """What one POST got back: the status (None: there was none) and what was wrong."""

    status: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return not self.error and self.status is not None and 200 <= self.status < 300


def post(policy: Policy, url: str, headers: Mapping[str, str], content: bytes, *,
         seconds: float, max_bytes: int = MAX_RESPONSE_BYTES) -> Answer:
    """POST `content`; never raises for the receiver's failures, only reports them."""
    deadline = time.monotonic() + seconds
    try:
        where = destination(policy, url)
    except Refused:
        return Answer(None, URL_NOT_ALLOWED)
    target = httpcore.URL(scheme=where.scheme, host=where.host, port=where.port,
                          target=where.target)
    sent = [("Host", where.netloc), *headers.items()]
    timeouts = dict.fromkeys(("connect", "read", "write", "pool"), seconds)
    try:
        with httpcore.ConnectionPool(network_backend=_CheckedBackend(policy, deadline),
                                     max_connections=1, retries=0) as pool, \
                pool.stream("POST", target, headers=sent, content=content,
                            extensions={"timeout": timeouts}) as response:
            return _answer(response, max_bytes)
    except Refused:
        return Answer(None, ADDRESS_NOT_ALLOWED)
    except Unresolved:
        return Answer(None, UNRESOLVED)
    except (TimeoutError, httpcore.TimeoutException):
        return Answer(None, TIMED_OUT)
    except (httpcore.ProtocolError, httpcore.UnsupportedProtocol):
        return Answer(None, INVALID_RESPONSE)
    except (httpcore.NetworkError, OSError):
        return Answer(None, CONNECTION_FAILED)


def _answer(response: httpcore.Response, max_bytes: int) -> Answer:
    status = response.status
    if 300 <= status < 400:
        return Answer(status, f"redirect refused (http {status})")
    if not 200 <= status < 300:
        return Answer(status, f"http {status}")
    length = dict((k.lower(), v) for k, v in response.headers).get(b"content-length", b"")
    if length.isdigit() and int(length) > max_bytes:
        return Answer(status, TOO_LARGE)
    received = 0
    for chunk in response.iter_stream():
        received += len(chunk)
        if received > max_bytes:  # leaving unread closes the connection
            return Answer(status, TOO_LARGE)
    return Answer(status)


def _left(deadline: float, timeout: float | None, late: type[Exception]) -> float:
    """The time an operation may take: what is left to the deadline (or less)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("the attempt's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _CheckedBackend(httpcore.NetworkBackend):
    """Opens the one connection of an attempt, to an address the policy checked."""

    def __init__(self, policy: Policy, deadline: float) -> None:
        self._policy = policy
        self._deadline = deadline
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        addresses = checked_addresses(self._policy, host, port,
                                      _left(self._deadline, timeout, httpcore.ConnectTimeout))
        failed: Exception = httpcore.ConnectError("no address")
        for address in addresses:
            try:
                stream = self._tcp.connect_tcp(
                    str(address), port, _left(self._deadline, timeout, httpcore.ConnectTimeout),
                    local_address, socket_options)
            except httpcore.ConnectError as error:
                failed = error
                continue
            return _Bounded(stream, self._deadline)
        raise failed

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("only TCP")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _Bounded(httpcore.NetworkStream):
    """A connection whose every operation ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        # CPython bounds the whole handshake by the socket timeout, not each recv.
        secured = self._inner.start_tls(
            ssl_context, server_hostname, _left(self._deadline, timeout, httpcore.ConnectTimeout))
        return _Bounded(secured, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
