"""Signed webhook delivery: every emitted event is POSTed to the endpoints that want it.

The store calls the listener inside its lock, so the listener only enqueues; one
background thread does the HTTP, which keeps each endpoint's events in emission order
(a failing event is retried, with exponential backoff, before the next one is sent).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Self

import httpx
import orjson

from .nested_lists import on_the_wire
from .objects import StripeObject
from .signing import sign
from .store import FakeStripe

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of one event to one endpoint; ``status`` is None if it never got an answer."""

    event_id: str
    event_type: str
    endpoint_id: str
    attempt: int
    status: int | None
    error: str | None
    timestamp: float

    @property
    def ok(self) -> bool:
        """Whether the endpoint acknowledged the event (any 2xx, as Stripe counts it)."""
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``GET /_fake/deliveries``."""
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True)
class _Job:
    event: StripeObject
    endpoint_id: str


class WebhookDelivery:
    """Queues events for matching endpoints and sends them, signed, from one thread.

    Construction registers the listener, so events emitted before :meth:`start` are
    queued and sent once it runs. ``max_attempts`` counts the first try; retry ``n``
    waits ``base_delay * 2 ** (n - 1)`` seconds. An endpoint deleted or disabled while
    its events wait is skipped (no attempt is recorded).
    """

    def __init__(
        self,
        state: FakeStripe,
        *,
        max_attempts: int = 4,
        base_delay: float = 0.25,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.state = state
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.timeout = timeout
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()
        self._in_flight = False
        self._paused = False
        self._stopping = False
        self._attempts: list[DeliveryAttempt] = []
        self._delivered: set[str] = set()
        self._thread: threading.Thread | None = None
        self._listening = False
        self._listen()

    # ---- control ------------------------------------------------------------------

    def start(self) -> Self:
        """Start the sending thread (idempotent)."""
        self._listen()
        with self._cond:
            if self._thread is not None:
                return self
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="fake-stripe-webhooks",
                                            daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and sending; queued events stay queued for a later start."""
        self.state.remove_event_listener(self._on_event)
        self.state.remove_connect_listener(self._on_connected_event)
        self._listening = False
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout)

    def pause(self) -> None:
        """Keep queueing events but send nothing until :meth:`resume`."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Send again, starting with what queued up while paused."""
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is queued or being sent; False if ``timeout`` ran out
        (always the case while paused with events queued)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    # ---- inspection ---------------------------------------------------------------

    @property
    def attempts(self) -> list[DeliveryAttempt]:
        """Every attempt so far, oldest first (a snapshot)."""
        with self._cond:
            return list(self._attempts)

    @property
    def paused(self) -> bool:
        """Whether sending is paused."""
        with self._cond:
            return self._paused

    @property
    def pending(self) -> int:
        """Events queued or being sent (one per endpoint)."""
        with self._cond:
            return len(self._queue) + int(self._in_flight)

    def delivered(self, event_id: str) -> bool:
        """Whether some endpoint answered 2xx to this event."""
        with self._cond:
            return event_id in self._delivered

    def clear(self) -> None:
        """Forget recorded attempts (the queue is untouched)."""
        with self._cond:
            self._attempts.clear()
            self._delivered.clear()

    # ---- listener (inside the store lock: enqueue only) -----------------------------

    def _listen(self) -> None:
        if not self._listening:
            self.state.add_event_listener(self._on_event)
            self.state.add_connect_listener(self._on_connected_event)
            self._listening = True

    def _on_event(self, event: StripeObject) -> None:
        self._enqueue(event, self.state.webhooks.targets(event["type"]))

    def _on_connected_event(self, account_id: str, event: StripeObject) -> None:
        """A connected account's event, to the platform's Connect endpoints, naming the
        account as Stripe does."""
        targets = self.state.webhooks.targets(event["type"], connect=True)
        self._enqueue({**event, "account": account_id}, targets)

    def _enqueue(self, event: StripeObject, targets: list[StripeObject]) -> None:
        if not targets:
            return
        # Cut like every API answer (nested lists at 10), and copied so later edits can't
        # leak into the queued payload.
        snapshot: StripeObject = orjson.loads(orjson.dumps(on_the_wire(event)))
        with self._cond:
            self._queue.extend(_Job(snapshot, endpoint["id"]) for endpoint in targets)
            self._cond.notify_all()

    # ---- sending thread -----------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (job := self._next_job()) is not None:
                try:
                    self._deliver(client, job)
                finally:
                    with self._cond:
                        self._in_flight = False
                        self._cond.notify_all()

    def _next_job(self) -> _Job | None:
        with self._cond:
            while not self._stopping and (self._paused or not self._queue):
                self._cond.wait()
            if self._stopping:
                return None
            self._in_flight = True
            return self._queue.popleft()

    def _deliver(self, client: httpx.Client, job: _Job) -> None:
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1 and not self._sleep(self.base_delay * 2 ** (attempt - 2)):
                return
            if not self._wait_while_paused():
                return
            endpoint = self.state.webhooks.get(job.endpoint_id)
            if endpoint is None or endpoint["status"] != "enabled":
                return
            result = self._post(client, job, endpoint, attempt)
            with self._cond:
                self._attempts.append(result)
                if result.ok:
                    self._delivered.add(result.event_id)
            if result.ok:
                return

    def _post(
        self, client: httpx.Client, job: _Job, endpoint: StripeObject, attempt: int
    ) -> DeliveryAttempt:
        payload = job.event
        if endpoint["api_version"]:
            payload = {**payload, "api_version": endpoint["api_version"]}
        body = orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, endpoint["secret"], int(self._clock())),
            "User-Agent": USER_AGENT,
        }
        status: int | None = None
        error: str | None = None
        try:
            status = client.post(endpoint["url"], content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return DeliveryAttempt(
            event_id=job.event["id"],
            event_type=job.event["type"],
            endpoint_id=endpoint["id"],
            attempt=attempt,
            status=status,
            error=error,
            timestamp=time.time(),
        )

    def _sleep(self, seconds: float) -> bool:
        """Back off without blocking :meth:`stop`; False if stopping."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return not self._stopping

    def _wait_while_paused(self) -> bool:
        with self._cond:
            while self._paused and not self._stopping:
                self._cond.wait()
            return not self._stopping
