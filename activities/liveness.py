"""Heartbeats while an activity works, so a killed worker is noticed in seconds.

Temporal retries an activity on another worker when it stops heartbeating for its
`heartbeat_timeout` (`workflows/retries.py`: HEARTBEAT_TIMEOUT); without heartbeats it
would wait for the whole start-to-close timeout. `kept_alive` heartbeats from a helper
(a thread for sync activities, a task for async ones) every `EVERY` seconds while the
activity runs, repeating the latest progress the activity reported with `progress`, so
the Temporal UI keeps showing where it is.

Each heartbeat that reaches the server is a billed Temporal action, and the SDK sends an
activity's first one at once. The helper therefore starts beating only at half the
heartbeat timeout: an activity done sooner (an event waiting its turn for the database,
a rule step, a full-sync fetch of a few pages) sends none, and the server still hears
from a longer one well in time. `progress` only hands its details to the helper, for the
same reason: no activity resumes from heartbeat details (a retried fetch or derivation
resumes from the checkpoint committed with its last page or batch), so they are worth a
look in the UI, not an action per page.

The helper proves the worker process is alive, not that the activity is making progress:
an activity stuck on a lock is ended by its start-to-close timeout, not by heartbeats. A
heartbeat that fails (the worker's event loop busy or closing) is logged and the helper
keeps going, so one hiccup never lets a second attempt start beside a live one.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

EVERY = 2.0  # seconds; the SDK sends at most one heartbeat per 0.8 x heartbeat_timeout

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
_latest: contextvars.ContextVar[list[tuple[Any, ...]]] = contextvars.ContextVar("progress")


def progress(*details: Any) -> None:
    """The details the helper's next heartbeats carry, until the next call.

    Nothing is sent now: the details ride on the helper's own beats, which the SDK
    throttles, so an activity reporting every page costs no more actions than a silent
    one. Outside `kept_alive` (nobody to carry them) this does nothing.
    """
    holder = _latest.get(None)
    if holder is not None:
        holder[0] = details


def kept_alive(fn: F) -> F:
    """Decorate an activity (under `@activity.defn`) to heartbeat while it runs.

    A local activity has no heartbeats (it lives inside its workflow's task, bounded by
    its start-to-close timeout), so it runs without the helper.
    """
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            if activity.info().is_local:
                return await fn(*args, **kwargs)
            holder: list[tuple[Any, ...]] = [()]
            _latest.set(holder)

            async def beat() -> None:
                await asyncio.sleep(_first_beat())
                while True:
                    _heartbeat(holder[0])
                    await asyncio.sleep(EVERY)

            helper = asyncio.create_task(beat())
            try:
                return await fn(*args, **kwargs)
            finally:
                helper.cancel()

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run_sync(*args: Any, **kwargs: Any) -> Any:
        if activity.info().is_local:
            return fn(*args, **kwargs)
        holder: list[tuple[Any, ...]] = [()]
        _latest.set(holder)
        stop = threading.Event()

        def beat() -> None:
            wait = _first_beat()
            while not stop.wait(wait):
                _heartbeat(holder[0])
                wait = EVERY

        helper = threading.Thread(target=contextvars.copy_context().run, args=(beat,),
                                  name=f"heartbeat {activity.info().activity_type}",
                                  daemon=True)
        try:
            helper.start()
            return fn(*args, **kwargs)
        finally:
            stop.set()
            if helper.is_alive():
                helper.join()

    return run_sync  # type: ignore[return-value]


def _first_beat() -> float:
    """Seconds before the helper's first heartbeat: half the activity's heartbeat timeout
    (EVERY without one)."""
    timeout = activity.info().heartbeat_timeout
    return max(EVERY, timeout.total_seconds() / 2) if timeout else EVERY


def _heartbeat(details: tuple[Any, ...]) -> None:
    try:
        activity.heartbeat(*details)
    except Exception:  # keep beating: a missed beat is retried in EVERY seconds
        log.warning("heartbeat of %s failed", activity.info().activity_type, exc_info=True)
