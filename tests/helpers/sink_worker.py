"""A platform's worker running a change sink, as a process of its own (so a test can
SIGKILL it mid-batch): `python -m tests.helpers.sink_worker JOURNAL [--hang-first]`.

The sink does what docs/platform.md asks of one: it applies a change only if its
position is above the highest it applied, and records that position in the same
write (here one JSON line per batch in JOURNAL, `applied`), so a batch handed over
again applies nothing twice. Every call is journaled first (`received`), so a test can
see redeliveries. `--hang-first` makes the first call hang after journaling it: the
worker dies mid-batch when the test kills it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from temporalio import activity
from temporalio.worker import Worker

from revsync.feed.sink import ChangeBatch
from revsync.settings import Settings
from revsync.temporal.client import connect


def journal(path: Path, record: dict[str, object]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(record) + "\n")
        out.flush()
        os.fsync(out.fileno())


def applied_positions(path: Path) -> list[int]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [p for line in lines if line["kind"] == "applied" for p in line["positions"]]


def received_batches(path: Path) -> list[list[int]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line["positions"] for line in lines if line["kind"] == "received"]


async def main(path: Path, hang_first: bool) -> None:
    settings = Settings()
    assert settings.sink_activity is not None and settings.sink_task_queue is not None

    @activity.defn(name=settings.sink_activity)
    async def receive(batch: ChangeBatch) -> None:
        positions = [c.position for c in batch.changes]
        journal(path, {"kind": "received", "positions": positions})
        if hang_first and len(received_batches(path)) == 1:
            await asyncio.Event().wait()  # dies here when the test kills the process
        done = max(applied_positions(path), default=0)
        journal(path, {"kind": "applied", "positions": [p for p in positions if p > done],
                       "changes": [c.subscriber_id for c in batch.changes if c.position > done]})

    client = await connect(settings, target_host=os.environ["TEMPORAL_ADDRESS"])
    worker = Worker(client, task_queue=settings.sink_task_queue, activities=[receive])
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), "--hang-first" in sys.argv))
