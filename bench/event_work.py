"""An event's own work, without Temporal: CPU, SQL statements and Stripe requests per event.

`bench/webhooks.py` measures the whole path and `bench/event_floor.py` what Temporal and
the SDK cost for its shape; this measures the rest directly. The event activity
(`EventActivities.process_event`: refetch, apply, hand-over) runs in this process, one
event after another, through `temporalio.testing.ActivityEnvironment`, against the fake
Stripe server in a process of its own and a database whose mirror holds the fake's
account (loaded directly, as a full sync would store it). Each event adds one unit to
a subscription item, so each changes one subscriber's MRR, as in `bench/webhooks.py`.
CPU is this process's, so the fake's and the database server's are left out.

    python bench/event_work.py --events 300
    python bench/event_work.py --events 300 --database postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, Pool, event
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database, start_fake
from bench.full_sync import KEY
from bench.platform_api import fill_mirror
from bench.webhooks import connect_workspace, emit_events, import_subscribers, pick_targets
from fake_stripe import FakeStripe, generate_account
from revsync.activities.stripe_event import EventActivities
from revsync.events.parsing import event_from_dict
from revsync.events.types import EventInput
from revsync.settings import Settings
from revsync.store import db


class Statements:
    """SQL statements this process sends. On SQLite, every statement the driver runs,
    whether SQLAlchemy sent it or the product used the driver's cursor directly (the
    mirror reads, the batch writes), less transaction control and the statements the
    database's triggers run. On PostgreSQL, only those sent through SQLAlchemy."""

    SKIPPED = ("--", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")

    def __init__(self) -> None:
        self.count = 0
        event.listen(Pool, "checkout", self._checked_out)
        event.listen(Engine, "before_cursor_execute", self._through_sqlalchemy)

    def _checked_out(self, dbapi_connection: Any, *_: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(self._run_by_sqlite)

    def _run_by_sqlite(self, sql: str) -> None:
        if not sql.lstrip().upper().startswith(self.SKIPPED):
            self.count += 1

    def _through_sqlalchemy(self, connection: Any, *_: Any) -> None:
        if connection.dialect.name != "sqlite":
            self.count += 1


async def run(args: argparse.Namespace, tmp: Path) -> None:
    url = database(args.database, tmp)
    fake, fake_url = start_fake(args.customers, args.seed, 0, KEY)
    try:
        settings = Settings(database_url=url, data_dir=tmp, stripe_api_base=fake_url,
                            secret_key=Fernet.generate_key().decode())
        db.migrate(settings.resolved_database_url)
        workspace_id = connect_workspace(settings, "whsec_bench")
        local = FakeStripe()
        local.load(generate_account(args.customers, args.seed))
        fill_mirror(settings.resolved_database_url, workspace_id, local)
        del local
        import_subscribers(settings, args, workspace_id)
        targets = pick_targets(settings.resolved_database_url, workspace_id)[:args.events]
        async with httpx.AsyncClient(base_url=fake_url, timeout=60,
                                     headers={"Authorization": f"Bearer {KEY}"}) as stripe_http:
            emitted = await emit_events(stripe_http, targets)
        inputs = [EventInput(workspace_id=workspace_id, event_id=parsed.id,
                             event_type=parsed.type, created=parsed.created,
                             targets=list(parsed.targets),
                             stripe_task_queue=settings.stripe_events_task_queue)
                  for parsed in map(event_from_dict, emitted)]
        activities = EventActivities(settings)
        # No rule and no sink: the hand-over finds nothing to signal and never uses it.
        environment = ActivityEnvironment(client=cast(Client, object()))
        statements = Statements()
        warm = inputs[:args.warmup]
        for one in warm:
            await environment.run(activities.process_event, one)
        cpu: list[float] = []
        sql: list[int] = []
        requests = 0
        outcomes: dict[str, int] = {}
        started = time.perf_counter()
        for one in inputs[len(warm):]:
            before_cpu, before_sql = time.process_time(), statements.count
            result = await environment.run(activities.process_event, one)
            cpu.append(time.process_time() - before_cpu)
            sql.append(statements.count - before_sql)
            requests += result.requests
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        wall = time.perf_counter() - started
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        db.dispose_all()
    n = len(cpu)
    cpu.sort()
    print(f"database            {args.database}")
    print(f"account             {args.customers:,} customers (seed {args.seed})")
    print(f"events measured     {n} one at a time ({len(warm)} warm-up first), outcomes "
          f"{outcomes}")
    print(f"CPU s/event         mean {sum(cpu) / n:.4f}, p50 {cpu[n // 2]:.4f}, "
          f"p90 {cpu[int(n * 0.9)]:.4f}")
    print(f"SQL statements      {statistics.mean(sql):.1f} per event (min {min(sql)}, "
          f"max {max(sql)})")
    print(f"Stripe requests     {requests / n:.2f} per event")
    print(f"wall                {wall / n * 1000:.1f} ms per event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
