"""Full sync end to end, measured: requests vs the minimum, wall time, objects/s,
requests/s against the budget, worker peak RSS.

Everything runs as separate processes, as in production: the Temporal dev server, the
fake Stripe server (seeded), one worker process (worker.py), and this driver.

    python bench/full_sync.py --customers 10000 --database sqlite
    python bench/full_sync.py --customers 10000 --latency-ms 300 --budget 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (
    activity_spans,
    children_cpu,
    database,
    fake_requests,
    fetches_in_flight,
    is_listing,
    peak_rss_mib,
    profile,
    rate,
    start_fake,
    start_worker,
    stop_worker,
)
from fake_stripe import generate_account, subscriber_emails
from revsync.settings import Settings
from revsync.setup import connection
from revsync.store import db, workspaces
from revsync.subscribers import csv_import
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport, stream_totals
from revsync.temporal.client import connect
from revsync.temporal.dev_server import dynamic_config_args, temporal_binary
from revsync.temporal.process_exit import exit_now

DERIVE = "revsync.derive_subscribers"

KEY = "sk_test_bench"


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="revsync-bench-"))
    url = database(args.database, tmp)
    settings = Settings(database_url=url, data_dir=tmp, secret_key=Fernet.generate_key().decode(),
                        stripe_requests_per_second=args.budget,
                        pages_per_activity=args.pages_per_activity)
    db.migrate(settings.resolved_database_url)
    t0 = time.perf_counter()
    fake, base_url = start_fake(args.customers, args.seed, args.latency_ms, KEY)
    emails = subscriber_emails(generate_account(args.customers, args.seed), seed=args.seed)
    print(f"fake Stripe seeded with {args.customers:,} customers in "
          f"{time.perf_counter() - t0:.1f}s; {len(emails):,} subscribers")
    settings = settings.model_copy(update={"stripe_api_base": base_url})  # the workers' too
    connection.connect(settings, "bench", KEY, connection.options(
        fx_rates={"eur": "1.08", "gbp": "1.27", "jpy": "0.0066"}))
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, "bench")
        assert workspace.id is not None
        csv_import.import_rows(session, workspace.id, [(n, {"email": e})
                                                        for n, e in enumerate(emails)])
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary(),
                                                ui=False, dev_server_log_level="error",
                                                dev_server_extra_args=dynamic_config_args())
    target = env.client.service_client.config.target_host
    workers = [start_worker(settings, target) for _ in range(args.workers)]
    try:
        client = await connect(settings, target_host=target)
        started, started_at = time.perf_counter(), time.time()
        handle = await start_sync(client, settings, workspace)
        phases: dict[str, float] = {}
        result = asyncio.ensure_future(handle.result(follow_runs=True))
        while not result.done():
            try:
                report = await handle.query("progress", result_type=SyncReport)
                phases.setdefault(report.phase, time.perf_counter() - started)
            except Exception:  # between continue-as-new runs
                pass
            await asyncio.wait({result}, timeout=0.5)
        report = result.result()
        wall = time.perf_counter() - started
        rss = max(peak_rss_mib(worker.pid) for worker in workers)
        cpu = children_cpu()
        waiting, running = await fetches_in_flight(client, handle.id, handle.result_run_id)
        derived = await activity_spans(client, handle.id, handle.result_run_id, DERIVE)
        listed = [e["timestamp"] for e in fake_requests(base_url)
                  if is_listing(e) and e["timestamp"] >= started_at]  # not connect's
    finally:
        for worker in workers:
            stop_worker(worker)
        fake.terminate()
        await env.shutdown()
    print_report(args, report, wall, rss, phases)
    print(f"database kept at    {url} (for bench/derivation.py --source)")
    objects = sum(s.objects for s in report.streams)
    print("CPU seconds         " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
          + f"; {sum(cpu.values()) / objects * 1e6:,.0f} µs per Stripe object")
    print(f"requests/s          {rate(listed):.1f} from the first list request to the last "
          f"(budget {args.budget:g})")
    print("requests/s per 10 s " + " ".join(f"{r:.1f}" for r in profile(listed)))
    seconds = sum(completed - started for _, started, completed in derived)
    print(f"derivation          {seconds:.2f} s in {len(derived)} activities, "
          f"{report.derive.subscribers_seen / max(seconds, 1e-9):,.0f} subscribers/s")
    print("fetches waiting     " + " ".join(f"{r:.1f}" for r in waiting))
    print("fetches running     " + " ".join(f"{r:.1f}" for r in running))


def print_report(args: argparse.Namespace, report: SyncReport, wall: float, rss: float,
                 phases: dict[str, float]) -> None:
    objects = sum(s.objects for s in report.streams)
    data_requests = report.requests - report.catalogue_requests
    streams_end = phases.get("sweep", phases.get("derive", wall))
    print(f"database            {args.database}")
    print(f"latency injected    {args.latency_ms:.0f} ms/request")
    print(f"budget              {args.budget:g} requests/s, {args.pages_per_activity} pages "
          "per activity")
    for total in stream_totals(report.streams):
        print(f"  {total.name:<16} {total.objects:>9,} objects {total.requests:>6,} requests "
              f"{total.parts:>3} range(s)")
    print(f"requests (data)     {data_requests:,} vs minimum {report.min_requests:,} "
          f"({data_requests / report.min_requests:.3f}x); catalogues {report.catalogue_requests}")
    nested = sum(s.nested_pages for s in report.streams)
    print(f"nested-list pages   {nested:,} (subscription items and invoice lines past the "
          "10 Stripe embeds; part of the minimum)")
    print(f"wall time           {wall:.1f} s (listing {streams_end:.1f} s, "
          f"derive+finish {wall - streams_end:.1f} s)")
    print(f"Stripe objects/s    {objects / wall:,.0f} overall, {objects / streams_end:,.0f} "
          "while listing")
    print(f"requests/s          {report.requests / streams_end:.1f} from the sync's start to "
          f"the sweep (budget {args.budget:g})")
    print(f"subscribers         {report.derive.subscribers_seen:,} derived, "
          f"{report.derive.subscribers_matched:,} with Stripe data")
    print(f"continue-as-new     {report.continued} times")
    print(f"worker peak RSS     {rss:,.0f} MiB ({args.workers} worker process(es), the "
          "largest)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--budget", type=float, default=100.0,
                        help="Stripe requests/s (the product default is 10)")
    parser.add_argument("--pages-per-activity", type=int,
                        default=Settings.model_fields["pages_per_activity"].default)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes (a fleet of them, as deployed)")
    asyncio.run(main(parser.parse_args()))
    exit_now(0)
