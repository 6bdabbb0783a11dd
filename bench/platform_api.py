"""Subscribers in over the API at scale: batch upserts of N subscribers against a mirror
of N customers.

A fresh database gets a workspace whose mirror holds the fake's generated account of N
customers, rendered as Stripe renders them and stored as a sync stores them (without a
sync: this measures the API, not the listing). Then the fake's subscriber list for that
account (about 90% match a customer, in varied case) goes to
`POST /api/workspaces/<ws>/subscribers/batch`, `--batch` per request, through the real
app in this process (httpx over ASGI, the app's own worker threads). Each subscriber is
derived inline, so the time until all are derived is the time until the last answer.
Then the workspace's change feed is read to its end, 1,000 entries a page: each matched
subscriber's starting values are an entry, as a first full sync's would be. Prints
upserts/s, request latency p50/p99, subscribers with values, feed entries/s, and the
peak RSS of the process while it sends (the fake's account freed first); with
`--csv`, also the CSV import of the same list (`csv_import`, as `subscribers import`)
into a second workspace.

    python bench/platform_api.py --customers 100000 --database sqlite
    python bench/platform_api.py --customers 100000 --database postgresql --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlmodel import col, func, select
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database
from fake_stripe import FakeStripe, generate_account, subscriber_emails
from revsync.settings import Settings
from revsync.store import db, mirror, workspaces
from revsync.store.models import Subscriber
from revsync.subscribers import csv_import
from revsync.temporal.client import connect
from revsync.temporal.dev_server import temporal_binary
from revsync.web.app import create_app

TOKEN = "bench-admin-token-0123456789"
STREAMS = {"product": "products", "price": "prices", "coupon": "coupons",
           "customer": "customers", "subscription": "subscriptions", "charge": "charges"}
MIRROR_CHUNK = 2000


def fill_mirror(url: str, workspace_id: int, fake: FakeStripe) -> int:
    """Every object of the account in the mirror, as the full sync would store it."""
    stored = 0
    with db.session(url) as session:
        for object_type, stream in STREAMS.items():
            records = fake.iter_records(object_type)
            for start in range(0, len(records), MIRROR_CHUNK):
                objects = [fake.render(object_type, rec)
                           for rec in records[start:start + MIRROR_CHUNK]]
                stored += mirror.upsert(session, stream, workspace_id, objects, time.time())
                session.commit()
    return stored


class PeakRss:
    """The largest resident size of this process seen while it runs (sampled)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, process.memory_info().rss)

    def mib(self) -> str:
        return f"{self.peak / 2**20:,.0f} MiB"


def with_values(url: str, workspace_id: int) -> int:
    with db.session(url) as session:
        return int(session.exec(select(func.count()).select_from(Subscriber).where(
            Subscriber.workspace_id == workspace_id, col(Subscriber.mrr).is_not(None))).one())


@dataclass
class Timed:
    """A run of requests: the wall time from the first request to the last answer, and
    each request's latency, in seconds."""

    wall: float
    latencies: list[float]
    items: int = 0  # feed entries read

    def percentiles(self) -> str:
        cuts = (statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1
                else self.latencies * 99)
        return f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


async def run_api(settings: Settings, name: str, emails: list[str], batch: int,
                  concurrency: int) -> tuple[Timed, Timed]:
    """Send every email in batches, then read the workspace's whole change feed (an entry
    per subscriber that matched), a page of 1,000 at a time."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary(),
                                                ui=False, dev_server_log_level="error")
    try:
        client = await connect(settings, target_host=env.client.service_client.config.target_host)
        app = create_app(settings.model_copy(update={"platform_key": SecretStr(TOKEN)}), client)
        batches = [emails[i:i + batch] for i in range(0, len(emails), batch)]
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)
        started = time.perf_counter()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bench.test", timeout=600,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as http:

            async def send(index: int, chunk: list[str]) -> None:
                async with gate:
                    started = time.perf_counter()
                    response = await http.post(
                        f"/api/workspaces/{name}/subscribers/batch",
                        json={"subscribers": [{"email": e} for e in chunk]},
                        headers={"Idempotency-Key": f"bench-{index}"})
                    latencies.append(time.perf_counter() - started)
                    response.raise_for_status()

            await asyncio.gather(*(send(i, chunk) for i, chunk in enumerate(batches)))
            upserts = Timed(time.perf_counter() - started, latencies)
            return upserts, await read_feed(http, name)
    finally:
        await env.shutdown()


async def read_feed(http: httpx.AsyncClient, name: str) -> Timed:
    read, after, latencies = 0, "", []
    started = time.perf_counter()
    while True:
        asked = time.perf_counter()
        response = await http.get(f"/api/workspaces/{name}/changes",
                                  params={"after": after, "limit": 1000})
        latencies.append(time.perf_counter() - asked)
        response.raise_for_status()
        page = response.json()
        read += len(page["changes"])
        after = page["next"]
        if not page["has_more"]:
            return Timed(time.perf_counter() - started, latencies, read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--csv", action="store_true", help="also time the CSV import")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=database(args.database, Path(tmp)),
                            data_dir=Path(tmp) / "data", secret_key=Fernet.generate_key().decode())
        url = settings.resolved_database_url
        db.migrate(url)
        started = time.perf_counter()
        account = generate_account(args.customers, args.seed)
        fake = FakeStripe()
        fake.load(account)
        emails = subscriber_emails(account, seed=args.seed)
        with db.session(url) as session:
            workspace = workspaces.get_or_create(session, "bench")
            other = workspaces.get_or_create(session, "bench-csv")
        assert workspace.id is not None and other.id is not None
        stored = fill_mirror(url, workspace.id, fake)
        if args.csv:
            fill_mirror(url, other.id, fake)
        del fake, account  # what follows measures the app, not the fake's account
        gc.collect()
        print(f"mirror: {stored:,} Stripe objects of {args.customers:,} customers "
              f"in {time.perf_counter() - started:.1f} s; {len(emails):,} subscribers to send")

        with PeakRss() as rss:
            upserts, feed = asyncio.run(run_api(settings, "bench", emails, args.batch,
                                                args.concurrency))
        print(f"API: {len(emails):,} upserts in {upserts.wall:.1f} s, "
              f"{len(emails) / upserts.wall:,.0f}/s ({len(upserts.latencies)} requests of "
              f"{args.batch}, concurrency {args.concurrency}); request "
              f"{upserts.percentiles()}; all derived when the last request answered; "
              f"peak RSS {rss.mib()}")
        print(f"subscribers with values: {with_values(url, workspace.id):,}")
        print(f"feed: {feed.items:,} entries read in {feed.wall:.1f} s, "
              f"{feed.items / feed.wall:,.0f} entries/s ({len(feed.latencies)} pages of "
              f"1,000; page {feed.percentiles()})")

        if args.csv:
            with PeakRss() as rss:
                started = time.perf_counter()
                with db.locked_session(url) as session:
                    result = csv_import.import_rows(session, other.id, [
                        (line, {"email": e}) for line, e in enumerate(emails, 2)])
                wall = time.perf_counter() - started
            print(f"CSV import: {result.created:,} created in {wall:.1f} s, "
                  f"{result.created / wall:,.0f}/s; with values: "
                  f"{with_values(url, other.id):,}; peak RSS {rss.mib()}")


if __name__ == "__main__":
    main()
