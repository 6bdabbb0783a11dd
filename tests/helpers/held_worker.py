"""A worker process for the kill tests: the product's three workers, except that the first
attempt of one named activity holds still (heartbeating, as the real activity would)
until the test SIGKILLs the process. The second attempt, on a fresh worker, runs as usual.

    python -m tests.helpers.held_worker revsync.sweep_mirror   # settings from the environment
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from revsync.settings import get_settings
from revsync.store import db
from revsync.temporal.client import connect
from revsync.temporal.plugin import RevenueSyncPlugin
from revsync.temporal.workers import task_queues


class HoldFirstAttempt(Interceptor):
    def __init__(self, activity_type: str) -> None:
        self.activity_type = activity_type

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Hold(next, self.activity_type)


class _Hold(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, activity_type: str) -> None:
        super().__init__(next)
        self.activity_type = activity_type

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.activity_type == self.activity_type and info.attempt == 1:
            print(f"holding {info.activity_type}", flush=True)
            while True:  # until killed (a local activity has no heartbeats to send)
                if not info.is_local:
                    activity.heartbeat("held")
                await asyncio.sleep(1)
        return await self.next.execute_activity(input)


async def main(activity_type: str) -> None:
    settings = get_settings()
    db.migrate(settings.resolved_database_url)
    plugin = RevenueSyncPlugin(settings)
    client = await connect(settings, plugin=plugin)
    await plugin.resolve_budget(client)  # as `revsync worker` does
    workers = [Worker(client, task_queue=q, interceptors=[HoldFirstAttempt(activity_type)])
               for q in task_queues(settings)]
    print("ready", flush=True)
    await asyncio.gather(*(w.run() for w in workers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
