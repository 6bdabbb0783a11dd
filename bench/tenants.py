"""Many tenants on one fleet: per-account budgets, fairness, and Stripe's limits enforced.

One fake Stripe serves 20 accounts of mixed sizes (one of 20,000 customers, five of 2,000,
fourteen of 200) with 300 ms per request, and answers 429 above a per-account limit: by
default equal to the budget, with no headroom at all; `--stripe-limit 12.5` puts Stripe's
limit where the product plans against it (a budget of 80% of Stripe's limit). All 20
workspaces sync at once on one worker process, then on two; then the 19 smaller ones
alone, to compare the small accounts' completion time with and without the big one
running. Figures come from the fake's request log (per account) and from the
syncs' own reports.

    python bench/tenants.py
    python bench/tenants.py --big 5000 --medium 2x1000 --small 4x200   # quicker
    python bench/tenants.py --big 0 --medium 2x5000 --small 0x200 --workers 1 --stripe-limit 12.5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (
    database,
    fake_requests,
    is_listing,
    profile,
    rate,
    start_fake,
    start_worker,
)
from fake_stripe import generate_account, subscriber_emails
from revsync.settings import Settings
from revsync.setup import connection
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.subscribers import csv_import
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport
from revsync.temporal.client import connect
from revsync.temporal.dev_server import dynamic_config_args, temporal_binary
from revsync.temporal.process_exit import exit_now

SEED = 21


@dataclass(frozen=True)
class Tenant:
    """One Stripe account and the workspace connected to it."""

    name: str
    account_id: str
    key: str
    customers: int
    size: str  # big, medium, small

    @property
    def spec(self) -> str:
        return f"{self.account_id}:{self.key}:{self.customers}"


@dataclass
class Outcome:
    tenant: Tenant
    seconds: float
    report: SyncReport


def tenants(big: int, medium: tuple[int, int], small: tuple[int, int]) -> list[Tenant]:
    sizes = ([("big", big)] if big else []) + [("medium", medium[1])] * medium[0] \
        + [("small", small[1])] * small[0]
    return [Tenant(f"{size}-{n:02d}", f"acct_bench{n:02d}", f"sk_test_bench_{n:02d}", count, size)
            for n, (size, count) in enumerate(sizes)]


def count_times(text: str) -> tuple[int, int]:
    """`5x2000` -> (5, 2000)."""
    times, _, count = text.partition("x")
    if not (times.isdigit() and count.isdigit()):
        raise argparse.ArgumentTypeError(f"expected COUNTxCUSTOMERS like 5x2000, not {text!r}")
    return int(times), int(count)


def prepare(settings: Settings, chosen: list[Tenant]) -> list[Workspace]:
    """Connect each workspace with its account's own key and import its subscribers."""
    db.migrate(settings.resolved_database_url)
    connected = []
    for n, tenant in enumerate(chosen):
        connection.connect(settings, tenant.name, tenant.key, connection.options())
        emails = subscriber_emails(generate_account(tenant.customers, SEED + 1 + n), seed=n)
        with db.session(settings.resolved_database_url) as session:
            workspace = workspaces.by_name(session, tenant.name)
            assert workspace.id is not None
            csv_import.import_rows(session, workspace.id,
                                   [(i, {"email": e}) for i, e in enumerate(emails)])
            connected.append(workspace)
    return connected


async def run_scenario(client: Client, settings: Settings, chosen: list[Tenant],
                       connected: list[Workspace]) -> list[Outcome]:
    started = time.perf_counter()
    handles = [await start_sync(client, settings, w) for w in connected]

    async def finish(tenant: Tenant, handle: Any) -> Outcome:
        report: SyncReport = await handle.result(follow_runs=True)
        return Outcome(tenant, time.perf_counter() - started, report)

    return list(await asyncio.gather(*(finish(t, h) for t, h in zip(chosen, handles,
                                                                     strict=True))))


def print_scenario(title: str, outcomes: list[Outcome], log: list[dict[str, Any]],
                   budget: float) -> None:
    print(f"\n== {title}")
    print(f"{'account':<14} {'customers':>9} {'req/s':>6} {'budget':>6} {'429s':>5} "
          f"{'requests':>8} {'minimum':>7} {'ratio':>6} {'done at':>8}")
    for o in sorted(outcomes, key=lambda o: o.tenant.name):
        mine = [e for e in log if e["account"] == o.tenant.account_id and is_listing(e)]
        answered = [e["timestamp"] for e in mine if e["status"] == 200]
        throttled = sum(1 for e in mine if e["status"] == 429)
        data = o.report.requests - o.report.catalogue_requests
        print(f"{o.tenant.name:<14} {o.tenant.customers:>9,} {rate(answered):>6.1f} "
              f"{budget:>6g} {throttled:>5} {data:>8,} {o.report.min_requests:>7,} "
              f"{data / max(o.report.min_requests, 1):>6.3f} {o.seconds:>7.1f}s")
    for o in sorted(outcomes, key=lambda o: o.tenant.name):
        if o.tenant.size != "small":
            answered = [e["timestamp"] for e in log
                        if e["account"] == o.tenant.account_id and is_listing(e)
                        and e["status"] == 200]
            print(f"{o.tenant.name:<14} requests/s per 10 s "
                  + " ".join(f"{r:.1f}" for r in profile(answered)))
    everything = [e["timestamp"] for e in log if is_listing(e) and e["status"] == 200]
    print(f"fleet: {len(everything):,} list requests at {rate(everything):.1f} requests/s; "
          f"429s {sum(1 for e in log if e['status'] == 429)}")
    for size in ("big", "medium", "small"):
        times = [o.seconds for o in outcomes if o.tenant.size == size]
        if times:
            print(f"{size:<7} accounts done: median {statistics.median(times):.1f}s, "
                  f"last {max(times):.1f}s")


async def scenario(env: WorkflowEnvironment, args: argparse.Namespace, base_url: str,
                   chosen: list[Tenant], workers: int, title: str) -> list[Outcome]:
    tmp = Path(tempfile.mkdtemp(prefix="revsync-tenants-"))
    suffix = f"{workers}-{len(chosen)}-{int(time.time())}"
    settings = Settings(
        database_url=database(args.database, tmp), data_dir=tmp,
        secret_key=Fernet.generate_key().decode(), task_queue=f"revsync-{suffix}",
        stripe_task_queue=f"revsync-stripe-{suffix}",
        stripe_events_task_queue=f"revsync-events-{suffix}",
        stripe_requests_per_second=args.budget, pages_per_activity=args.pages_per_activity,
        stripe_api_base=base_url)
    connected = prepare(settings, chosen)
    target = env.client.service_client.config.target_host
    processes = [start_worker(settings, target) for _ in range(workers)]
    httpx.delete(f"{base_url}/_fake/requests")
    try:
        client = await connect(settings, target_host=target)
        outcomes = await run_scenario(client, settings, chosen, connected)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    print_scenario(title, outcomes, fake_requests(base_url), args.budget)
    return outcomes


async def main(args: argparse.Namespace) -> None:
    everyone = tenants(args.big, args.medium, args.small)
    extra = [arg for t in everyone for arg in ("--account", t.spec)]
    limit = args.stripe_limit or args.budget
    extra += ["--enforce-rate-limits", "--account-rate-limit", str(limit)]
    t0 = time.perf_counter()
    fake, base_url = start_fake(0, SEED, args.latency_ms, "sk_test_platform", extra)
    print(f"fake Stripe: {len(everyone)} accounts, "
          f"{sum(t.customers for t in everyone):,} customers, seeded in "
          f"{time.perf_counter() - t0:.1f}s; {args.latency_ms:g} ms per request; 429 above "
          f"{limit:g} requests/s per account; budget {args.budget:g} requests/s per "
          f"account, {args.pages_per_activity} pages per activity")
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary(),
                                                ui=False, dev_server_log_level="error",
                                                dev_server_extra_args=dynamic_config_args())
    try:
        for workers in args.workers:
            await scenario(env, args, base_url, everyone, workers,
                           f"all {len(everyone)} accounts at once, {workers} worker process(es)")
        without_big = [t for t in everyone if t.size != "big"]
        if len(without_big) == len(everyone):
            return
        await scenario(env, args, base_url, without_big, args.workers[0],
                       f"the {len(without_big)} smaller accounts alone, {args.workers[0]} "
                       "worker process(es)")
    finally:
        fake.terminate()
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", type=int, default=20_000, help="customers of the big account")
    parser.add_argument("--medium", type=count_times, default=(5, 2000))
    parser.add_argument("--small", type=count_times, default=(14, 200))
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--budget", type=float, default=10.0,
                        help="requests/s per account the product plans")
    parser.add_argument("--stripe-limit", type=float, default=None,
                        help="requests/s per account above which the fake answers 429 "
                        "(default: the budget, so no headroom at all)")
    parser.add_argument("--pages-per-activity", type=int,
                        default=Settings.model_fields["pages_per_activity"].default)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    asyncio.run(main(parser.parse_args()))
    exit_now(0)
