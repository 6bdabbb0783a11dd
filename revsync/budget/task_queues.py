"""Write the per-account rate limits into the Stripe task queues' server-side config.

`UpdateTaskQueueConfig` sets, for every fairness key of a queue, a default rate that
Temporal scales by the key's weight; it holds across all workers, so adding workers
never raises an account's budget. A server without the call (older than 1.28, the
time-skipping test server) or that refuses it leaves the fleet scope: one worker-side
rate for all accounts together.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit, TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    UpdateTaskQueueConfigRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from revsync.settings import Settings

log = logging.getLogger(__name__)
REASON = "revsync: one Stripe budget per account"


@dataclass(frozen=True)
class BudgetScope:
    """How the fleet's Stripe calls are limited, and why."""

    scope: Literal["account", "fleet"]
    reason: str


def per_key_rates(settings: Settings) -> dict[str, float]:
    """Activities per second of a weight-1 key, per Stripe task queue."""
    return {
        settings.stripe_task_queue: settings.activities_per_second,
        settings.stripe_events_task_queue: settings.event_activities_per_second,
    }


# Answers that say the server is busy or away, not that it cannot hold the config.
# CANCELLED is how the client reports its own deadline passing ("Timeout expired"): the
# server did not answer in time, which says nothing of whether it can hold the config.
TRANSIENT = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED,
                       RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.ABORTED,
                       RPCStatusCode.CANCELLED})
ATTEMPTS = 8  # about 25 s of backoff before a busy server counts as refusing


async def apply_budget(client: Client, settings: Settings) -> BudgetScope:
    """Configure the per-account rates, or say why the fleet scope applies."""
    if settings.stripe_budget_scope == "fleet":
        return BudgetScope("fleet", "REVSYNC_STRIPE_BUDGET_SCOPE=fleet")
    try:
        for queue, rate in per_key_rates(settings).items():
            await _with_retries(functools.partial(set_key_rate, client, queue, rate))
    except (RPCError, RuntimeError) as error:
        reason = f"the Temporal server refused the task queue config ({_describe(error)})"
        if settings.stripe_budget_scope == "account":
            raise BudgetUnavailable(reason) from error
        return BudgetScope("fleet", reason)
    return BudgetScope("account", "per-key rate limits set on the Stripe task queues")


async def _with_retries(call: Callable[[], Awaitable[None]]) -> None:
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except RPCError as error:
            if error.status not in TRANSIENT or attempt == ATTEMPTS - 1:
                raise
            log.warning("task queue config: %s; retrying", _describe(error))
            await asyncio.sleep(min(0.2 * 2 ** attempt, 8.0))


async def set_key_rate(client: Client, queue: str, rate: float) -> None:
    """Set the queue's per-fairness-key default and read it back."""
    service = client.workflow_service
    await service.update_task_queue_config(UpdateTaskQueueConfigRequest(
        namespace=client.namespace,
        identity=client.identity,
        task_queue=queue,
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        update_fairness_key_rate_limit_default=UpdateTaskQueueConfigRequest.RateLimitUpdate(
            rate_limit=RateLimit(requests_per_second=rate), reason=REASON),
    ))
    described = await service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        report_config=True,
    ))
    stored = described.config.fairness_keys_rate_limit_default.rate_limit.requests_per_second
    # The server keeps the rate as a 32-bit float: 100/3 comes back as 33.333332.
    if not math.isclose(stored, rate, rel_tol=1e-6):
        raise RuntimeError(f"queue {queue} kept a per-key rate of {stored}, not {rate}")


class BudgetUnavailable(Exception):
    """The account scope was asked for and the server cannot enforce it."""


def _describe(error: Exception) -> str:
    if isinstance(error, RPCError):
        return f"{error.status.name}: {error.message}"
    return str(error)
