"""Segments at scale, measured: count and first page of members per example segment.

A fresh database (SQLite file, or a new PostgreSQL database at REVSYNC_TEST_PG) is
filled with N subscribers with realistic revenue, Stripe and user tags, carried
metadata and email events over the last 90 days (bulk: executemany on SQLite, COPY on
PostgreSQL), then each segment is counted and its first page (100 members, with tags)
read `--repeat` times through `revsync.segments.store`. Prints p50/p99 and the plans.

    python bench/segments.py --subscribers 1000000 --database sqlite --repeat 10
    python bench/segments.py --subscribers 1000000 --database postgresql --repeat 20

`--keep` keeps the loaded database and prints its URL; `--reuse URL` measures that
database again (migrated to the latest revision first) instead of loading a new one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_ADMIN
from bench.common import database as fresh_database
from revsync.segments import parse, store
from revsync.segments.sql import count_statement, members_statement
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Segment, Workspace

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SEGMENTS = [
    "mrr >= 100",
    "ltv > 1000",
    "mrr >= 50 AND mrr < 200",
    "tag = churned AND ltv > 500",
    "tag = trial AND mrr = 0",
    "mrr >= 50 AND opened_emails_last_30_days = 0",
    "mrr < 50 AND tag = customer",
    "plan = enterprise AND seats >= 50",
]
Row = tuple[Any, ...]


def database(kind: str, tmp: Path) -> str:
    """A fresh database (the full-sync benchmark's), as the psycopg 3 URL the app uses."""
    return Settings(database_url=fresh_database(kind, tmp)).resolved_database_url


def people(n: int, seed: int) -> Iterator[tuple[Row, list[Row], list[Row]]]:
    """(subscriber, tags, events) per subscriber; ~45% leads without Stripe data."""
    rng = random.Random(seed)
    for sid in range(1, n + 1):
        roll = rng.random()
        tags: list[tuple[str, str]] = []
        mrr: float | None = None
        ltv: float | None = None
        metadata: dict[str, str] = {}
        if roll < 0.35:  # paying customer
            mrr = round(min(rng.lognormvariate(4.0, 0.9), 20_000), 2)
            ltv = round(mrr * rng.randint(1, 36), 2)
            tags += [("customer", "stripe"), (rng.choice(["saas.monthly", "saas.yearly"]),
                                              "stripe")]
            if rng.random() < 0.08:
                tags.append(("past-due", "stripe"))
            metadata = {"plan": rng.choice(["basic", "pro", "pro", "enterprise"]),
                        "seats": str(rng.randint(1, 200))}
        elif roll < 0.47:  # churned
            mrr, ltv = 0.0, round(rng.uniform(20, 5_000), 2)
            tags += [("churned", "stripe"), ("cancelled", "stripe")]
            metadata = {"plan": rng.choice(["basic", "pro"])}
        elif roll < 0.53:  # on trial
            mrr, ltv = 0.0, 0.0
            tags.append(("trial", "stripe"))
        if rng.random() < 0.10:
            tags.append((rng.choice(["vip", "newsletter", "webinar", "churned"]), "user"))
        events: list[Row] = []
        for _ in range(min(int(rng.expovariate(1 / 3)), 40)):
            kind = "click" if rng.random() < 0.2 else "open"
            events.append((kind, NOW - timedelta(seconds=rng.randint(0, 90 * 86_400))))
        subscriber = (sid, f"user{sid}@example.com", mrr, ltv, metadata)
        yield subscriber, [(sid, t, s) for t, s in dict.fromkeys(tags)], \
            [(sid, k, at) for k, at in events]


def load(url: str, n: int, seed: int) -> tuple[int, int, int]:
    with db.session(url) as session:
        workspace = Workspace(name="bench", default_segments_created=True)
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        ws = workspace.id
    engine = db.get_engine(url)
    if url.startswith("sqlite"):
        counts = _load_sqlite(engine, ws, n, seed)
    else:
        counts = _load_postgresql(engine, ws, n, seed)
    settle(engine)
    return counts


def settle(engine: Engine) -> None:
    """Statistics, and on PostgreSQL the steady state autovacuum keeps: the visibility
    map (which index-only scans need), not the state straight after a bulk write."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")


def _batches(n: int, seed: int, size: int = 50_000) -> Iterator[tuple[list[Row], list[Row],
                                                                       list[Row]]]:
    subs: list[Row] = []
    tags: list[Row] = []
    events: list[Row] = []
    for subscriber, t, e in people(n, seed):
        subs.append(subscriber)
        tags += t
        events += e
        if len(subs) >= size:
            yield subs, tags, events
            subs, tags, events = [], [], []
    if subs:
        yield subs, tags, events


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _load_sqlite(engine: Engine, ws: int, n: int, seed: int) -> tuple[int, int, int]:
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    totals = [0, 0, 0]
    now = _sqlite_time(NOW)
    for subs, tags, events in _batches(n, seed):
        cursor.executemany(
            "INSERT INTO subscriber (id, workspace_id, email, email_norm, attributes, mrr, "
            "ltv, stripe_metadata, stripe_customer_ids, unsubscribed, updated_at) "
            "VALUES (?, ?, ?, ?, '{}', ?, ?, ?, '[]', 0, ?)",
            [(sid, ws, email, email, mrr, ltv, json.dumps(meta), now)
             for sid, email, mrr, ltv, meta in subs])
        cursor.executemany("INSERT INTO subscriber_tag (subscriber_id, tag, source, "
                           "workspace_id) VALUES (?, ?, ?, ?)",
                           [(*t, ws) for t in tags])
        cursor.executemany("INSERT INTO email_event (workspace_id, subscriber_id, kind, "
                           "occurred_at) VALUES (?, ?, ?, ?)",
                           [(ws, sid, kind, _sqlite_time(at)) for sid, kind, at in events])
        raw.commit()
        totals = [totals[0] + len(subs), totals[1] + len(tags), totals[2] + len(events)]
    cursor.close()
    raw.close()
    return totals[0], totals[1], totals[2]


def _load_postgresql(engine: Engine, ws: int, n: int, seed: int) -> tuple[int, int, int]:
    raw = engine.raw_connection()
    cursor = raw.cursor()
    totals = [0, 0, 0]
    for subs, tags, events in _batches(n, seed):
        with cursor.copy("COPY subscriber (id, workspace_id, email, email_norm, attributes, "
                         "mrr, ltv, stripe_metadata, stripe_customer_ids, unsubscribed, "
                         "updated_at) FROM STDIN") as copy:
            for sid, email, mrr, ltv, meta in subs:
                copy.write_row((sid, ws, email, email, "{}", mrr, ltv, json.dumps(meta), "[]",
                                False, NOW))
        with cursor.copy("COPY subscriber_tag (subscriber_id, tag, source, workspace_id) "
                         "FROM STDIN") as copy:
            for tag in tags:
                copy.write_row((*tag, ws))
        with cursor.copy("COPY email_event (workspace_id, subscriber_id, kind, occurred_at) "
                         "FROM STDIN") as copy:
            for sid, kind, at in events:
                copy.write_row((ws, sid, kind, at))
        raw.commit()
        totals = [totals[0] + len(subs), totals[1] + len(tags), totals[2] + len(events)]
    cursor.execute("SELECT setval('subscriber_id_seq', (SELECT max(id) FROM subscriber))")
    raw.commit()
    cursor.close()
    raw.close()
    return totals[0], totals[1], totals[2]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float:
    """CPU time the process has run: this one's from the clock (its own schedstat lags
    by up to a scheduler tick while it runs), another's (idle between queries) from
    its schedstat, in ns."""
    if pid == os.getpid():
        return time.process_time()
    own = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    return own + _children_seconds(int(Path(f"/proc/{pid}/stat").read_text()
                                       .rsplit(")", 1)[1].split()[1]))


def _children_seconds(postmaster: int) -> float:
    """CPU of the postmaster's exited children: a query's parallel workers (10 ms ticks)."""
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def database_pid(session: Session) -> int:
    """The process that runs the session's queries: this one for SQLite, else the
    PostgreSQL backend (on this machine) serving the session's connection."""
    if session.get_bind().dialect.name == "sqlite":
        return os.getpid()
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


Timings = dict[str, list[float]]  # count / page / count_cpu / page_cpu -> seconds per run


def measure(url: str, ws: int, repeat: int) -> list[tuple[str, int, int, Timings]]:
    """Wall and database-process CPU of each count and first page, `repeat` times (the
    loop's statements share one transaction, so one PostgreSQL backend)."""
    results = []
    with db.session(url) as session:
        for number, expression in enumerate(SEGMENTS):
            segment = session.exec(select(Segment).where(
                Segment.workspace_id == ws, Segment.name == f"s{number}")).first()
            if segment is None:  # kept from an earlier run on a reused database
                segment = Segment(workspace_id=ws, name=f"s{number}", expression=expression)
                session.add(segment)
            segment.expression = expression
            session.commit()
            assert segment.id is not None
            pid = database_pid(session)
            timings: Timings = {"count": [], "page": [], "count_cpu": [], "page_cpu": []}
            count = page_size = 0
            for _ in range(repeat):
                c0, t0 = cpu_seconds(pid), time.perf_counter()
                count = store.count(session, ws, segment.id, now=NOW)
                c1, t1 = cpu_seconds(pid), time.perf_counter()
                page = store.members(session, ws, segment.id, limit=100, now=NOW)
                c2, t2 = cpu_seconds(pid), time.perf_counter()
                for name, value in (("count", t1 - t0), ("page", t2 - t1),
                                    ("count_cpu", c1 - c0), ("page_cpu", c2 - c1)):
                    timings[name].append(value)
                page_size = len(page.members)
            results.append((expression, count, page_size, timings))
    return results


def plan(engine: Engine, statement: Any) -> list[str]:
    """The database's plan for the statement exactly as the store sends it (bound)."""
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "

    def explain(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any,
                _many: bool) -> tuple[str, Any]:
        return prefix + sql, params

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", explain, retval=True)
        try:
            rows = conn.execute(statement).cursor.fetchall()
        finally:
            event.remove(conn, "before_cursor_execute", explain)
    if sqlite:
        return [f"{row[0]:>3} {row[1]:>3}  {row[3]}" for row in rows]
    return [str(row[0]) for row in rows]


def main(args: argparse.Namespace) -> None:
    if args.reuse:
        url = args.reuse
        t0 = time.perf_counter()
        db.migrate(url)
        t1 = time.perf_counter()
        settle(db.get_engine(url))
        print(f"database      {url}, reused (migrated in {t1 - t0:.1f} s, then ANALYZE"
              f"{'' if url.startswith('sqlite') else ', VACUUM'} in "
              f"{time.perf_counter() - t1:.1f} s)")
    else:
        url = database(args.database, Path(tempfile.mkdtemp(prefix="revsync-bench-segments-")))
        db.migrate(url)
        t0 = time.perf_counter()
        subscribers, tags, events = load(url, args.subscribers, args.seed)
        print(f"database      {args.database}" + (f", kept: --reuse {url}" if args.keep else ""))
        print(f"loaded        {subscribers:,} subscribers, {tags:,} tags, {events:,} email "
              f"events in {time.perf_counter() - t0:.1f} s (incl. ANALYZE, VACUUM on "
              "PostgreSQL)")
    with db.session(url) as session:
        ws = session.get(Workspace, 1)
        assert ws is not None and ws.id is not None
        workspace_id = ws.id
    before = os.getloadavg()[0]
    results = measure(url, workspace_id, args.repeat)
    print(f"load average  {before:.2f} before measuring, {os.getloadavg()[0]:.2f} after")
    print(f"repeat        {args.repeat} (p99 of so few runs is close to the maximum)")
    print("ms: wall p50/p99, then the database process's CPU p50 (SQLite: this process)")
    print(f"{'segment':<47} {'members':>9} {'page':>5} {'count p50':>9} {'p99':>7} "
          f"{'cpu':>7} {'page p50':>8} {'p99':>7} {'cpu':>7}")
    for expression, count, page, timings in results:
        figures = [percentile(timings[name], p) * 1000 for name, p in (
            ("count", .5), ("count", .99), ("count_cpu", .5), ("page", .5), ("page", .99),
            ("page_cpu", .5))]
        print(f"{expression:<47} {count:>9,} {page:>5} {figures[0]:>9.1f} {figures[1]:>7.1f} "
              f"{figures[2]:>7.1f} {figures[3]:>8.1f} {figures[4]:>7.1f} {figures[5]:>7.1f}")
    engine = db.get_engine(url)
    for expression in SEGMENTS:
        tree = parse(expression)
        print(f"\n== {expression}: count")
        print("\n".join(plan(engine, count_statement(tree, workspace_id, NOW))))
        print(f"== {expression}: first page")
        print("\n".join(plan(engine, members_statement(tree, workspace_id, NOW, 0, 100))))
    db.dispose_all()
    if url.startswith("postgresql") and not (args.keep or args.reuse):
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--reuse", metavar="URL", help="measure this kept database instead "
                        "of loading a new one")
    main(parser.parse_args())
