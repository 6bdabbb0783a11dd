"""How the workflows call activities: retry policies, the heartbeat timeout, and the sets
of options every call uses (`database(...)`, `stripe(...)`, `local_database(...)`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy

# Stripe throttling and outages are waited out, never fatal: no attempt limit.
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["AuthenticationError", "PermissionError", "InvalidRequestError",
                               "WorkspaceError", "KeyStoreError"],
)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=20,  # about 8 minutes, then the run fails and says why
    non_retryable_error_types=["WorkspaceError", "KeyStoreError", "RevenueError"],
)

# A rule's step (an email, or a webhook to the host platform that may be down for a
# while): backoff from 2 s to 10 min, about 1.5 hours of attempts, then the step is
# given up (each webhook attempt is in the delivery log).
RULE_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=14,
    non_retryable_error_types=["WorkspaceError", "KeyStoreError", "RevenueError"],
)

# Every activity heartbeats while it runs (activities/liveness.py), so a worker that dies
# mid-activity is noticed after this long and the activity retried on another worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta
    retry_policy: RetryPolicy


def database(start_to_close: timedelta = timedelta(minutes=10)) -> ActivityOptions:
    """Database work: heartbeated, retried a limited number of times."""
    return ActivityOptions(start_to_close_timeout=start_to_close,
                           heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_policy=DB_RETRY)


def rule_step(start_to_close: timedelta = timedelta(minutes=2)) -> ActivityOptions:
    """A rule's step: heartbeated, retried with a long backoff (see RULE_STEP_RETRY)."""
    return ActivityOptions(start_to_close_timeout=start_to_close,
                           heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_policy=RULE_STEP_RETRY)


def stripe(start_to_close: timedelta = timedelta(minutes=15)) -> ActivityOptions:
    """Stripe calls: heartbeated, retried until Stripe answers (throttling is waited out)."""
    return ActivityOptions(start_to_close_timeout=start_to_close,
                           heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_policy=STRIPE_RETRY)


class LocalActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


def local_database(start_to_close: timedelta = timedelta(minutes=2)) -> LocalActivityOptions:
    """Short database work run as a local activity, inside the workflow's own task: no
    task-queue round trip through the server, no heartbeats (none are needed for a step
    of a second or two), the same retries as `database`."""
    return LocalActivityOptions(start_to_close_timeout=start_to_close, retry_policy=DB_RETRY)
