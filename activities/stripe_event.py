"""The one activity `workflows/stripe_event.py` runs for a webhook event.

`EventActivities.process_event` runs on the events' Stripe task queue, whose server-side
activity rate is the webhook share of the account's request budget: it refetches the
event's objects, re-derives their subscribers and records the event in one locked
transaction, then hands the transitions to the automations. One activity, so an event
costs one activity attempt of Temporal actions besides its start. Results carry ids and
counts only.

Transitions no rule acts on are recorded as handed over already, so most events skip
the hand-over's reads and writes. A retry after the event was recorded finds it
recorded (nothing is derived twice) and still hands over whatever of its transitions
an earlier attempt left undispatched.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.gateways import StripeActivities
from revsync.activities.liveness import kept_alive
from revsync.automations.hand_over import hand_over
from revsync.automations.types import DispatchInput
from revsync.events import refetch
from revsync.events.apply import ALREADY_APPLIED, apply_event
from revsync.events.types import ApplyInput, EventInput, EventResult, Refetched
from revsync.feed import sink
from revsync.settings import Settings
from revsync.store import db

T = TypeVar("T")


class EventActivities(StripeActivities):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Stripe and the database are blocking calls: they run on threads of their own,
        # as many as the worker runs activities at once, so every event in flight waits
        # on the network at the same time (the loop's default pool has a handful).
        self._threads = ThreadPoolExecutor(settings.stripe_worker_threads,
                                           thread_name_prefix="revsync-event")

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(fn, *args))

    @activity.defn(name="revsync.process_event")
    @kept_alive
    async def process_event(self, event: EventInput) -> EventResult:
        """Refetch, re-derive and record, then hand the transitions over."""
        with permanent_errors():
            refetched = await self._blocking(self._refetch, event)
            result = await self._blocking(self._apply, event, refetched)
            if result.to_hand_over or result.outcome == ALREADY_APPLIED:
                await hand_over(activity.client(), self.settings,
                                DispatchInput(event.workspace_id, event.event_id),
                                self._blocking, nudge_when_none=False)
            elif result.transitions:  # recorded as handed over: only the sink to tell
                await sink.nudge(activity.client(), self.settings, event.workspace_id)
        result.requests = refetched.requests
        return result

    def _refetch(self, event: EventInput) -> Refetched:
        gateway = self.gateways.get(event.workspace_id)
        return refetch.refetch(gateway, self.settings.resolved_database_url,
                               event.workspace_id, event.targets)

    def _apply(self, event: EventInput, refetched: Refetched) -> EventResult:
        request = ApplyInput(workspace_id=event.workspace_id, event_id=event.event_id,
                             event_type=event.event_type, created=event.created,
                             targets=event.targets, customer_ids=refetched.customer_ids)
        with db.locked_session(self.settings.resolved_database_url) as session:
            return apply_event(session, request, now=int(time.time()))
