"""A record of the API requests the fake answered, for assertions on call counts."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    """One answered request; ``endpoint`` is the route template, e.g. ``GET /v1/customers``."""

    method: str
    path: str
    query: str
    status: int
    timestamp: float
    endpoint: str
    duration_ms: float
    account: str = ""  # acct_... of a connected account, "platform", or "" if refused first

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class RequestLog:
    """Thread-safe bounded log plus per-endpoint counters (counters are not bounded)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=max_entries)
        self._counts: Counter[str] = Counter()
        self._in_flight = 0
        self._lock = threading.Lock()

    def received(self) -> None:
        """An API request arrived (answered later, after any injected latency)."""
        with self._lock:
            self._in_flight += 1

    def answered(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def in_flight(self) -> int:
        """API requests received and not answered yet: a test can kill a client mid-request."""
        with self._lock:
            return self._in_flight

    def add(self, entry: LoggedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._entries.append(entry)
            self._counts[entry.endpoint] += 1

    def entries(self) -> list[LoggedRequest]:
        """The logged requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def counts(self) -> dict[str, int]:
        """Requests per endpoint since the last clear."""
        with self._lock:
            return dict(self._counts)

    def count(self, endpoint: str | None = None) -> int:
        """Requests to one endpoint (``"GET /v1/charges"``), or all of them."""
        with self._lock:
            return self._counts[endpoint] if endpoint else sum(self._counts.values())

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._counts.clear()
