"""The least a webhook event can cost here: CPU per workflow of the event's shape, no-ops.

An applied event is one workflow (its id is the event id, so a redelivery starts
nothing) started with the account's fairness key, whose one activity runs on the
events task queue, where Temporal enforces the account's rate per key. This measures
that shape, and a smaller one, with an activity that does nothing, so what remains is
Temporal's cost and the Python SDK's, not ours; `bench/webhooks.py` minus this is the
event's own work:

- `FloorEmpty`: a workflow that returns at once;
- `FloorEvent`: the event's shape: started with a fairness key, one async activity on a
  second task queue with a per-key rate, as the product's events queue is configured;
- `FloorEventPlain`: the same outside the workflow sandbox (measured between two rounds
  of `FloorEvent`, so drift on a busy machine shows).

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
from pathlib import Path

import psutil
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds
from bench.floor_shapes import OTHER_QUEUE, Empty, Event, EventPlain, noop
from revsync.budget.task_queues import set_key_rate
from revsync.temporal.dev_server import dynamic_config_args, temporal_binary
from revsync.temporal.process_exit import exit_now

PRIORITY = Priority(fairness_key="floor-account", fairness_weight=1.0)


async def measure(client: Client, server: psutil.Process, workflow_name: str, queue: str,
                  count: int, concurrency: int) -> None:
    me = psutil.Process()
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await client.execute_workflow(workflow_name, n, id=f"floor-{uuid.uuid4().hex}",
                                          task_queue=queue, priority=PRIORITY)

    before = (cpu_seconds(me), cpu_seconds(server), time.perf_counter())
    await asyncio.gather(*(one(n) for n in range(count)))
    worker_s, server_s = cpu_seconds(me) - before[0], cpu_seconds(server) - before[1]
    wall = time.perf_counter() - before[2]
    print(f"{workflow_name:<16} {count / wall:>8.1f} {worker_s / count:>10.4f} "
          f"{server_s / count:>10.4f} {(worker_s + server_s) / count:>10.4f}")


async def main(args: argparse.Namespace) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), ui=False, dev_server_log_level="error",
        dev_server_extra_args=dynamic_config_args())
    server = next(p for p in psutil.Process().children(recursive=True)
                  if "temporal" in " ".join(p.cmdline()))
    queue = f"floor-{uuid.uuid4().hex[:6]}"
    await set_key_rate(env.client, OTHER_QUEUE, args.rate)
    try:
        async with (
            Worker(env.client, task_queue=queue, workflows=[Empty, Event, EventPlain]),
            Worker(env.client, task_queue=OTHER_QUEUE, activities=[noop]),
        ):
            print(f"{args.workflows} workflows each, {args.concurrency} at a time; "
                  "CPU seconds per workflow")
            print(f"{'shape':<16} {'per s':>8} {'worker':>10} {'Temporal':>10} {'both':>10}")
            for name in ("FloorEmpty", "FloorEvent", "FloorEventPlain", "FloorEvent"):
                await measure(env.client, server, name, queue, args.workflows,
                              args.concurrency)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50.0,
                        help="activities/s per fairness key on the second queue (the product's "
                             "events queue at the default budget)")
    asyncio.run(main(parser.parse_args()))
    exit_now(0)
