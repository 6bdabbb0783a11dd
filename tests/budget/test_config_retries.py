"""Setting the per-account rates outlasts a slow or busy server, and stops at a refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from temporalio.service import RPCError, RPCStatusCode

from revsync.budget import task_queues


def failing(times: int, status: RPCStatusCode, message: str
            ) -> tuple[list[int], Callable[[], Awaitable[None]]]:
    calls: list[int] = []

    async def call() -> None:
        calls.append(1)
        if len(calls) <= times:
            raise RPCError(message, status, b"")

    return calls, call


async def test_a_client_timeout_is_retried_like_a_busy_server() -> None:
    # What the client raises when its own deadline passes before the server answers.
    calls, call = failing(2, RPCStatusCode.CANCELLED, "Timeout expired")
    await task_queues._with_retries(call)
    assert len(calls) == 3


async def test_a_refusal_is_not_retried() -> None:
    calls, call = failing(1, RPCStatusCode.PERMISSION_DENIED, "no")
    with pytest.raises(RPCError):
        await task_queues._with_retries(call)
    assert len(calls) == 1
