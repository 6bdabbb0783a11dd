"""What the triggers keeping `subscriber.last_opened_at` / `last_clicked_at` cost a bulk
load of email events: the segment benchmark's loader (executemany on SQLite, COPY on
PostgreSQL) over N subscribers, runs with the triggers and without them alternating,
each on a fresh database. Prints the CPU of the database's process per run (this one
for SQLite, the PostgreSQL backend otherwise) and the wall time.

    python bench/latest_events_cost.py --subscribers 200000 --database sqlite --runs 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_ADMIN
from bench.segments import _load_postgresql, _load_sqlite, database
from revsync.store import db
from revsync.store.models import Workspace

TRIGGERS = ("email_event_latest_insert", "email_event_latest_delete",
            "email_event_latest_update")


def run(kind: str, subscribers: int, seed: int, triggers: bool) -> tuple[float, float]:
    url = database(kind, Path(tempfile.mkdtemp(prefix="revsync-bench-latest-")))
    db.migrate(url)
    engine = db.get_engine(url)
    with db.session(url) as session:
        workspace = Workspace(name="bench", default_segments_created=True)
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        ws = workspace.id
    if not triggers:
        with engine.begin() as conn:
            for name in TRIGGERS:
                conn.execute(text(f"DROP TRIGGER {name}" + (
                    "" if kind == "sqlite" else " ON email_event")))
    # PostgreSQL: the loader's connection is a new one (the pool emptied first), so its
    # backend's whole CPU, read after the load through the same pooled connection, is
    # the load's. SQLite: this process.
    db.dispose_all()
    engine = db.get_engine(url)
    c0 = time.process_time()
    t0 = time.perf_counter()
    (_load_sqlite if kind == "sqlite" else _load_postgresql)(engine, ws, subscribers, seed)
    wall = time.perf_counter() - t0
    if kind == "sqlite":
        cpu = time.process_time() - c0
    else:
        with engine.connect() as conn:
            pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        cpu = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    db.dispose_all()
    if kind == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return cpu, wall


def main(args: argparse.Namespace) -> None:
    for number in range(args.runs):
        for triggers in (True, False):
            cpu, wall = run(args.database, args.subscribers, args.seed, triggers)
            print(f"run {number + 1} triggers {'on ' if triggers else 'off'}  "
                  f"CPU {cpu:6.1f} s  wall {wall:6.1f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    main(parser.parse_args())
