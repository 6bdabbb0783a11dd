"""The worker process's run: it ends when a worker fails, instead of waiting for a signal;
what start-up built is kept out of the garbage collector's passes."""

from __future__ import annotations

import asyncio
import gc

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from revsync.settings import Settings
from revsync.temporal.plugin import RevenueSyncPlugin
from revsync.temporal.workers import run_until, settle_heap


async def test_a_worker_that_cannot_start_ends_the_run_with_its_error(
    temporal_env: WorkflowEnvironment, settings: Settings
) -> None:
    target = temporal_env.client.service_client.config.target_host
    client = await Client.connect(target, namespace="no-such-namespace",
                                  plugins=[RevenueSyncPlugin(settings)])
    never = asyncio.Event()
    with pytest.raises(RuntimeError, match="no-such-namespace"):
        await asyncio.wait_for(run_until(client, settings, never), timeout=120)


async def test_a_stop_ends_the_run_cleanly(client: Client, settings: Settings) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(run_until(client, settings, stop))
    await asyncio.sleep(0.5)
    assert not running.done()
    stop.set()
    await asyncio.wait_for(running, timeout=120)


def test_settling_the_heap_freezes_what_is_alive_and_collects_the_rest() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.disable()  # so that only settle_heap collects the garbage
    try:
        Cycle()
        settle_heap()
        frozen = gc.get_freeze_count()
        gc.unfreeze()  # back into the generations get_objects lists
        assert frozen > 0
        assert not any(isinstance(o, Cycle) for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.enable()
