"""Retry policies and the heartbeat timeout shared by the workflows."""

from __future__ import annotations

from datetime import timedelta

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

# Every activity heartbeats while it runs (activities/liveness.py), so a worker that dies
# mid-activity is noticed after this long and the activity retried on another worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
