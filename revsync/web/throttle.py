"""Sign-in throttling: after `REVSYNC_SIGN_IN_MAX_FAILURES` failed sign-ins from one client
address within `REVSYNC_SIGN_IN_WINDOW_SECONDS`, every sign-in from it (the platform key
form, an embed link) answers 429 with `Retry-After` until the oldest failure leaves the
window. A success does not count, and clears the address's failures.

Kept in this process's memory, not in the database. Both credentials are unguessable at
any rate (a platform key of 16 characters or more, embed tokens of 256 random bits); the
throttle is there so that a flood of attempts costs little and a weak platform key is
not tried at the speed of the server. Each web process counts on its own, so N processes
allow N times the failures: still a bound, at no cost to a sign-in (no write per
attempt, no table to migrate or clean). A failure count per workspace is left out on
purpose: the platform key signs in on every workspace's page, and it would let anyone
lock a workspace's people out.

The address is the one uvicorn reports: behind a proxy, set `FORWARDED_ALLOW_IPS` to the
proxy's so it is the browser's, or every browser shares the proxy's count.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from time import monotonic

from starlette.requests import Request

from revsync.settings import Settings
from revsync.web.errors import HttpError

MAX_ADDRESSES = 100_000  # addresses remembered at once; the oldest are forgotten first


class SignInThrottle:
    def __init__(self, settings: Settings) -> None:
        self.max_failures = settings.sign_in_max_failures
        self.window = settings.sign_in_window_seconds
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, request: Request, headers: Mapping[str, str] | None = None) -> None:
        """Refuse the attempt (429) while the address has too many recent failures."""
        with self._lock:
            recent = self._recent(_address(request))
            if len(recent) < self.max_failures:
                return
            wait = math.ceil(recent[0] + self.window - monotonic())
        raise HttpError(429, f"too many failed sign-ins from this address; try again in "
                        f"{wait} s", headers={**(headers or {}), "Retry-After": str(wait)})

    def failed(self, request: Request) -> None:
        address = _address(request)
        with self._lock:
            recent = self._recent(address)
            recent.append(monotonic())
            self._failures[address] = recent
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)

    def succeeded(self, request: Request) -> None:
        with self._lock:
            self._failures.pop(_address(request), None)

    def _recent(self, address: str) -> deque[float]:
        """The address's failures still in the window (at most `max_failures`)."""
        recent = self._failures.get(address, deque(maxlen=self.max_failures))
        while recent and recent[0] <= monotonic() - self.window:
            recent.popleft()
        return recent


def of(request: Request) -> SignInThrottle:
    """The app's throttle (`revsync.web.app`)."""
    throttle: SignInThrottle = request.app.state.sign_ins
    return throttle


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"
