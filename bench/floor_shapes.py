"""The workflows `bench/event_floor.py` measures, in a module of their own: the workflow
sandbox re-imports a workflow's module, which it cannot do for a script run as
`__main__`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

OTHER_QUEUE = "floor-stripe"
SECOND = timedelta(seconds=30)


@activity.defn(name="floor.noop")
async def noop(value: int) -> int:
    return value


@workflow.defn(name="FloorEmpty", sandboxed=False)
class Empty:
    @workflow.run
    async def run(self, value: int) -> int:
        return value


async def one_activity(value: int) -> int:
    """The event workflow's one step: an activity on the second queue."""
    return int(await workflow.execute_activity(
        "floor.noop", value, result_type=int, task_queue=OTHER_QUEUE,
        start_to_close_timeout=SECOND))


@workflow.defn(name="FloorEvent")
class Event:
    """Sandboxed, as the product's event workflow is."""

    @workflow.run
    async def run(self, value: int) -> int:
        return await one_activity(value)


@workflow.defn(name="FloorEventPlain", sandboxed=False)
class EventPlain:
    """The event's shape outside the sandbox: what the sandbox costs per workflow."""

    @workflow.run
    async def run(self, value: int) -> int:
        return await one_activity(value)
