"""A host platform's webhook endpoint on 127.0.0.1, for the rule webhook tests: it records
every request and answers as told (statuses in turn, or a misbehaving answer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[["Receiver", BaseHTTPRequestHandler], None]


class Receiver:
    """Serves until closed; `received` holds (headers, body) of every POST, `written` the
    body bytes an answer managed to send, `gone` when a client hung up mid-answer."""

    def __init__(self, answer: Answer) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.written = 0
        self.gone: float | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.received.append((dict(self.headers), self.rfile.read(length)))
                try:
                    answer(receiver, self)
                except OSError:  # the client hung up: what a cut-off answer looks like
                    receiver.gone = time.monotonic()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/revsync"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def statuses(*given: int) -> Answer:
    """Answer the statuses given, in turn, then 200, each with an empty body."""
    left = list(given)

    def answer(_: Receiver, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(left.pop(0) if left else 200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def redirect(to: str) -> Answer:
    def answer(_: Receiver, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def drip(*, headers: bool, every: float = 0.05, longest: float = 30.0) -> Answer:
    """One byte every `every` seconds, for up to `longest`: in the header block (a header
    line that never ends) or in a 200's body (a Content-Length it takes ages to reach)."""

    def answer(receiver: Receiver, handler: BaseHTTPRequestHandler) -> None:
        out = handler.wfile
        if headers:
            out.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        else:
            out.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        out.flush()
        until = time.monotonic() + longest
        while time.monotonic() < until:
            out.write(b"x")
            out.flush()
            receiver.written += 1
            time.sleep(every)

    return answer


def huge(total: int, chunk: int = 1 << 20) -> Answer:
    """A 200 whose body runs to `total` bytes, delimited by closing the connection."""

    def answer(receiver: Receiver, handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        block = b"y" * chunk
        while receiver.written < total:
            handler.wfile.write(block)
            receiver.written += len(block)
        handler.wfile.flush()

    return answer
