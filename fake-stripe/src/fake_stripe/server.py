"""Run the fake on a free loopback port in a background thread (tests, demo, bench)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn

from .app import create_app
from .delivery import WebhookDelivery
from .store import FakeStripe


class FakeStripeServer:
    """``with FakeStripeServer(state) as server: server.base_url`` (or ``async with``).

    uvicorn runs in a daemon thread with its own event loop, so injected latency
    never blocks the caller's loop. ``port=0`` picks a free port.
    ``deliver_webhooks=True`` (or a ready ``delivery`` for ``state``, to tune retries)
    sends signed events to the account's webhook endpoints while the server runs.
    """

    def __init__(
        self,
        state: FakeStripe | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        deliver_webhooks: bool = False,
        delivery: WebhookDelivery | None = None,
    ) -> None:
        self.state = state if state is not None else FakeStripe()
        if delivery is not None and delivery.state is not self.state:
            raise ValueError("delivery belongs to another FakeStripe state")
        if delivery is None and deliver_webhooks:
            delivery = WebhookDelivery(self.state)
        self.delivery: WebhookDelivery | None = delivery
        self.host = host
        self._requested_port = port
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:54321`` (pass as ``base_addresses={"api": ...}``)."""
        if not self.port:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeStripeServer:
        """Bind, start serving, and wait until requests are accepted."""
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP; with proto 0 small responses stall ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        if self.delivery is not None:
            self.delivery.start()
        config = uvicorn.Config(
            create_app(self.state, self.delivery),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-stripe", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake Stripe server failed to start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.delivery is not None:
            self.delivery.stop()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
