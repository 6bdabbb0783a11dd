"""Stripe's own rate limits, enforced when asked: requests per second per account, and per
endpoint of an account, over a sliding one-second window.

Stripe answers 429 past them with `Stripe-Rate-Limited-Reason` (`global-rate` for the
account, `endpoint-rate` for one endpoint). A benchmark run against limits equal to the
budget proves the budget holds, from the fake's log, instead of assuming it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

WINDOW = 1.0  # seconds

GLOBAL_RATE = "global-rate"
ENDPOINT_RATE = "endpoint-rate"


class RateLimits:
    """Admit or refuse one request; 0 (the default) enforces nothing."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.per_account = 0.0
        self.per_endpoint = 0.0
        self._seen: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def set(self, per_account: float, per_endpoint: float) -> None:
        with self._lock:
            self.per_account, self.per_endpoint = per_account, per_endpoint
            self._seen.clear()

    def refused(self, account: str, endpoint: str) -> str | None:
        """The reason this request is over a limit, or None (then it is counted)."""
        if not self.per_account and not self.per_endpoint:
            return None
        with self._lock:
            now = self.clock()
            windows = (self._window((account, ""), now), self._window((account, endpoint), now))
            if self.per_account and len(windows[0]) >= self.per_account:
                return GLOBAL_RATE
            if self.per_endpoint and len(windows[1]) >= self.per_endpoint:
                return ENDPOINT_RATE
            for window in windows:
                window.append(now)
            return None

    def _window(self, key: tuple[str, str], now: float) -> deque[float]:
        window = self._seen[key]
        while window and window[0] <= now - WINDOW:
            window.popleft()
        return window
