"""A full sync's derivation alone, in this process, without Temporal: CPU, wall, phases.

Starts from the database a full sync left (`bench/full_sync.py` prints its URL last).
Each round copies it, resets the derived state (subscribers' values, versions and change
times, Stripe tags, customer links, feed entries, checkpoints), then runs the derive
activity (`SyncStoreActivities.derive_subscribers`, through
`temporalio.testing.ActivityEnvironment`) the way the full-sync workflow does: activity
after activity of 4 batches of 500 until done, as a first sync (silent). Then it prints
the process's CPU and wall seconds (and, on PostgreSQL, the server backend's CPU, read
from /proc: the server must run on this machine), and a hash of the derived state,
which must not change with any change that is only about speed.

    python bench/derivation.py --source sqlite:////tmp/revsync-bench-XXXX/bench.sqlite --rounds 3
    python bench/derivation.py --source postgresql://postgres@127.0.0.1/revsync_bench_XX --phases
    python bench/derivation.py --source ... --profile derive.prof   # cProfile stats

`--phases` times the derivation's steps (reading the facts, the definitions, the writes,
...) with wrappers around them, CPU and wall each; their overhead is small but the
totals of a run with phases are not compared with runs without.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import hashlib
import importlib
import os
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import orjson
import psycopg
from sqlalchemy import Date, DateTime, Engine, MetaData, Table, text
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_ADMIN
from revsync.activities.full_sync import SyncStoreActivities
from revsync.feed.causes import sync_source
from revsync.settings import Settings
from revsync.store import db
from revsync.sync.types import DeriveCounts, DeriveInput
from revsync.temporal.workers import settle_heap

BATCH_SIZE = 500
BATCHES_PER_ACTIVITY = 4

# What a derivation writes, each table hashed whole in primary-key order.
DERIVED_TABLES = ("subscriber", "subscriber_tag", "subscriber_metadata",
                  "stripe_customer_link", "subscriber_transition", "derive_checkpoint")

RESET = (
    "UPDATE subscriber SET mrr = NULL, ltv = NULL, stripe_metadata = '{}', "
    "stripe_customer_ids = '[]', version = 0, mrr_changed_at = NULL, ltv_changed_at = NULL, "
    "tags_changed_at = NULL, updated_at = '2000-01-01 00:00:00'",
    "DELETE FROM subscriber_tag WHERE source = 'stripe'",
    "DELETE FROM stripe_customer_link",
    "DELETE FROM subscriber_transition",
    "DELETE FROM derive_checkpoint",
)

# Steps timed with --phases: "module:attribute" wrapped where it is looked up.
PHASES = (
    "revsync.subscribers.facts:load_facts",
    "revsync.subscribers.changes:stripe_tags",
    "revsync.subscribers.derivation:derive_subscriber",
    "revsync.subscribers.changes:_relink",
    "revsync.subscribers.changes:_update_subscribers",
    "revsync.subscribers.changes:_retag",
    "revsync.subscribers.changes:record_transitions",
    "revsync.subscribers.derive_checkpoints:claim",
    "revsync.subscribers.derive_checkpoints:save",
    "sqlmodel:Session.commit",
)


@dataclasses.dataclass
class Copy:
    """One round's copy of the source database."""

    url: str
    drop: Callable[[], None]
    backend_cpu: Callable[[], float]  # CPU seconds of the server's backends on it


def copy_sqlite(source: str, tmp: Path) -> Copy:
    source = source.split("///", 1)[-1]
    target = tmp / f"derive-{uuid.uuid4().hex[:8]}.sqlite"
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, \
            sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()

    def drop() -> None:
        for path in (target, *target.parent.glob(target.name + "-*")):
            path.unlink(missing_ok=True)

    return Copy(f"sqlite:///{target}", drop, lambda: 0.0)


def copy_postgresql(source: str) -> Copy:
    source = source.rsplit("/", 1)[-1]
    name = f"revsync_derive_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    def backend_cpu() -> float:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            pids = [pid for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]
        return sum(process_cpu(pid) for pid in pids)

    return Copy(f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", drop, backend_cpu)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset(engine: Engine) -> None:
    """Derived state as before the first derivation; PostgreSQL vacuumed after it, so
    every round starts from the same tables."""
    with engine.begin() as connection:
        for statement in RESET:
            connection.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in DERIVED_TABLES:
                connection.execute(text(f"VACUUM {table}"))


def derive_all(settings: Settings, workspace_id: int, sync_run_id: int, now: int
               ) -> DeriveCounts:
    """The workflow's derive loop: activities of 4 batches until one says it is done."""
    activities = SyncStoreActivities(settings)
    environment = ActivityEnvironment(client=cast(Client, object()))
    cursor, total, attempt = 0, DeriveCounts(), 0
    while True:
        attempt += 1
        environment.info = dataclasses.replace(environment.info, activity_id=str(attempt))
        result = environment.run(activities.derive_subscribers, DeriveInput(
            workspace_id, cursor, now, BATCH_SIZE, BATCHES_PER_ACTIVITY,
            sync_source(sync_run_id), fire=False))
        cursor = result.last_subscriber_id
        total.add(result.counts)
        if result.done:
            return total


def derived_hash(engine: Engine, counts: DeriveCounts) -> str:
    """A digest of every derived table as stored (the driver's own values, in primary-key
    order), clock times by their form only, not their value; and of the counts the
    activities returned.

    The counts (and a checkpoint's copy of them) are read with sorted keys: their tag
    counts come in the order of a set of strings, which differs from process to process.
    """
    digest = hashlib.sha256()
    metadata = MetaData()
    with engine.connect() as connection:
        for name in DERIVED_TABLES:
            table = Table(name, metadata, autoload_with=connection)
            times = {i for i, c in enumerate(table.columns)
                     if isinstance(c.type, DateTime | Date)}  # compared by their form
            order = ", ".join(c.name for c in table.primary_key.columns)
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(f"SELECT * FROM {name} ORDER BY {order}")
            for row in cursor.fetchall():
                values = [_time_form(v) if i in times else v for i, v in enumerate(row)]
                if name == "derive_checkpoint":
                    values = [_sorted_json(v) for v in values]
                digest.update(repr(values).encode())
            cursor.close()
            if os.environ.get("BENCH_TABLE_HASHES"):
                print(f"  after {name}: {digest.hexdigest()[:16]}")
    digest.update(_sorted_json(dataclasses.asdict(counts)).encode())
    return digest.hexdigest()[:16]


def _time_form(value: Any) -> Any:
    """A stored time without its digits (SQLite's text) or with only its type and zone."""
    if isinstance(value, str):
        return re.sub(r"[0-9]", "9", value)
    if isinstance(value, datetime):
        return f"datetime {value.tzinfo}"
    return value


def _sorted_json(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        value = orjson.loads(value)
    if isinstance(value, dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
    return value


class Phases:
    """CPU and wall seconds spent inside each of `PHASES` (the outermost call only)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.active = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        undo = []
        for spec in PHASES:
            module_name, path = spec.split(":")
            owner: Any = importlib.import_module(module_name)
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = getattr(owner, attribute, None)
            if original is None:
                continue
            setattr(owner, attribute, self._timed(path, original))
            undo.append((owner, attribute, original))
        try:
            yield
        finally:
            for owner, attribute, original in undo:
                setattr(owner, attribute, original)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.active:
                return fn(*args, **kwargs)
            self.active = True
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
                self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
                self.active = False
        return timed


def one_round(args: argparse.Namespace, tmp: Path) -> None:
    copy = copy_sqlite(args.source, tmp) if args.database == "sqlite" \
        else copy_postgresql(args.source)
    try:
        engine = db.get_engine(copy.url)
        reset(engine)
        with engine.connect() as connection:
            workspace_id, run_id, started = connection.execute(text(
                "SELECT workspace_id, id, started_at FROM sync_run ORDER BY id DESC LIMIT 1"
            )).one()
        if isinstance(started, str):
            started = datetime.fromisoformat(started)
        now = int(started.timestamp())
        settings = Settings(database_url=copy.url, data_dir=tmp)
        settle_heap()  # as the worker does before it runs
        backend_before = copy.backend_cpu()
        phases = Phases()
        profiler = cProfile.Profile() if args.profile else None
        with phases.installed() if args.phases else _nothing():
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            counts = derive_all(settings, workspace_id, run_id, now)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        backend = copy.backend_cpu() - backend_before
        if profiler:
            profiler.dump_stats(args.profile)
        print(f"{args.database}: {counts.subscribers_seen:,} subscribers "
              f"({counts.subscribers_matched:,} matched, {counts.subscribers_changed:,} "
              f"changed) CPU {cpu:.2f} s, wall {wall:.2f} s, "
              f"{counts.subscribers_seen / wall:,.0f}/s wall, "
              f"{counts.subscribers_seen / cpu:,.0f}/CPU s"
              + (f", server backend CPU {backend:.2f} s" if args.database != "sqlite" else "")
              + f"; derived state {derived_hash(engine, counts)}", flush=True)
        if args.phases:
            for name in sorted(phases.cpu, key=lambda n: -phases.cpu[n]):
                print(f"  {name:<40} CPU {phases.cpu[name]:6.2f} s  wall "
                      f"{phases.wall[name]:6.2f} s")
            print(f"  {'(the rest)':<40} CPU {cpu - sum(phases.cpu.values()):6.2f} s  wall "
                  f"{wall - sum(phases.wall.values()):6.2f} s")
    finally:
        db.dispose_all()
        copy.drop()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True,
                        help="the URL of the database a full sync left (the SQLite file or "
                             "PostgreSQL database on this machine is copied, never changed)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--phases", action="store_true")
    parser.add_argument("--profile", help="write the last round's cProfile stats here")
    args = parser.parse_args()
    args.database = "postgresql" if args.source.startswith("postgresql") else "sqlite"
    with tempfile.TemporaryDirectory(prefix="revsync-bench-derive-") as tmp:
        for _ in range(args.rounds):
            one_round(args, Path(tmp))


if __name__ == "__main__":
    main()
