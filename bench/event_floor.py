"""The least a webhook event can cost here: CPU per workflow of the event's shape, no-ops.

An applied event is one workflow (its id is the event id, so a redelivery starts
nothing) whose refetch runs on the Stripe queue (where Temporal enforces the account's
rate), then local activities for the database steps. This measures that shape and
two smaller ones with activities that do nothing, so what remains is Temporal's cost
and the Python SDK's, not ours:

- `FloorEmpty`: a workflow that returns at once;
- `FloorLocal`: one local activity;
- `FloorEvent`: one activity on a second task queue, then one local activity.

The worker runs in this process, so "worker" is this process's CPU (starting the
workflows included); "Temporal" is the dev server's.

    python bench/event_floor.py --workflows 300 --concurrency 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psutil
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds
from revsync.temporal.dev_server import dynamic_config_args, temporal_binary
from revsync.temporal.process_exit import exit_now

OTHER_QUEUE = "floor-stripe"
SECOND = timedelta(seconds=30)


@activity.defn(name="floor.noop")
def noop(value: int) -> int:
    return value


@workflow.defn(name="FloorEmpty", sandboxed=False)
class Empty:
    @workflow.run
    async def run(self, value: int) -> int:
        return value


@workflow.defn(name="FloorLocal", sandboxed=False)
class Local:
    @workflow.run
    async def run(self, value: int) -> int:
        return int(await workflow.execute_local_activity(
            "floor.noop", value, result_type=int, start_to_close_timeout=SECOND))


@workflow.defn(name="FloorEvent", sandboxed=False)
class Event:
    @workflow.run
    async def run(self, value: int) -> int:
        fetched = await workflow.execute_activity(
            "floor.noop", value, result_type=int, task_queue=OTHER_QUEUE,
            start_to_close_timeout=SECOND)
        return int(await workflow.execute_local_activity(
            "floor.noop", fetched, result_type=int, start_to_close_timeout=SECOND))


async def measure(client: Client, server: psutil.Process, workflow_name: str, queue: str,
                  count: int, concurrency: int) -> None:
    me = psutil.Process()
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await client.execute_workflow(workflow_name, n, id=f"floor-{uuid.uuid4().hex}",
                                          task_queue=queue)

    before = (cpu_seconds(me), cpu_seconds(server), time.perf_counter())
    await asyncio.gather(*(one(n) for n in range(count)))
    worker_s, server_s = cpu_seconds(me) - before[0], cpu_seconds(server) - before[1]
    wall = time.perf_counter() - before[2]
    print(f"{workflow_name:<12} {count / wall:>8.1f} {worker_s / count:>10.4f} "
          f"{server_s / count:>10.4f} {(worker_s + server_s) / count:>10.4f}")


async def main(args: argparse.Namespace) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), ui=False, dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args())
    server = next(p for p in psutil.Process().children(recursive=True)
                  if "temporal" in " ".join(p.cmdline()))
    queue = f"floor-{uuid.uuid4().hex[:6]}"
    try:
        async with (
            Worker(env.client, task_queue=queue, workflows=[Empty, Local, Event],
                   activities=[noop], activity_executor=ThreadPoolExecutor(8)),
            Worker(env.client, task_queue=OTHER_QUEUE, activities=[noop],
                   activity_executor=ThreadPoolExecutor(8)),
        ):
            print(f"{args.workflows} workflows each, {args.concurrency} at a time; "
                  "CPU seconds per workflow")
            print(f"{'shape':<12} {'per s':>8} {'worker':>10} {'Temporal':>10} {'both':>10}")
            for name in ("FloorEmpty", "FloorLocal", "FloorEvent"):
                await measure(env.client, server, name, queue, args.workflows,
                              args.concurrency)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
    exit_now(0)
