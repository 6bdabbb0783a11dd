"""Benchmark the fake Stripe server: seed time, RSS, and paging latency via the SDK.

    .venv/bin/python bench/fake_stripe_serve.py --customers 100000 --pages 300

The server runs in its own process (as ``python -m fake_stripe``), so RSS
and latency are the server's, not the client's. Per stream it prints client-side
latency through the stripe SDK (which includes the SDK's own JSON -> StripeObject
conversion), the same pages fetched raw with httpx, and the server's own handling
time from the request log.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import stripe

STREAMS: dict[str, dict[str, Any]] = {
    "customers": {},
    "subscriptions": {"status": "all", "expand": ["data.discounts", "data.items.data.discounts"]},
    "charges": {},
}
KEY = "sk_test_bench"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server(customers: int, seed: int) -> tuple[subprocess.Popen[str], str, float]:
    """Start the CLI on a free port; returns the process, base URL and wall seed time."""
    err = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_stripe", "--port", "0", "--customers",
         str(customers), "--seed", str(seed), "--api-key", KEY],
        stdout=subprocess.PIPE, stderr=err, text=True, cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    elapsed = time.perf_counter() - started
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server failed: {Path(err.name).read_text()}")
    print(Path(err.name).read_text().strip())
    return proc, base_url, elapsed


def walk(fetch: Callable[[str | None], tuple[int, str | None]], pages: int) -> list[float]:
    """Latency (s) of up to ``pages`` consecutive pages."""
    latencies: list[float] = []
    cursor: str | None = None
    for _ in range(pages):
        t0 = time.perf_counter()
        count, cursor = fetch(cursor)
        latencies.append(time.perf_counter() - t0)
        if cursor is None or count == 0:
            break
    return latencies


def report(name: str, latencies: list[float]) -> None:
    ms = [x * 1000 for x in latencies]
    total = sum(latencies)
    print(f"  {name:<34} pages={len(ms):4d}  p50={percentile(ms, .5):6.1f}ms  "
          f"p95={percentile(ms, .95):6.1f}ms  p99={percentile(ms, .99):6.1f}ms  "
          f"{len(ms) / total:7.1f} pages/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    proc, base_url, seed_wall = start_server(args.customers, args.seed)
    try:
        server = psutil.Process(proc.pid)
        print(f"seed+start wall time: {seed_wall:.1f}s   server RSS: "
              f"{server.memory_info().rss / 2**20:.0f} MiB")
        client = stripe.StripeClient(KEY, base_addresses={"api": base_url},
                                     http_client=stripe.HTTPXClient(allow_sync_methods=True))
        raw = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"})
        for stream, params in STREAMS.items():
            service = getattr(client.v1, stream)

            def via_sdk(cursor: str | None, service: Any = service,
                        params: dict[str, Any] = params) -> tuple[int, str | None]:
                extra = {"starting_after": cursor} if cursor else {}
                page = service.list(params={**params, "limit": 100, **extra})
                return len(page.data), page.data[-1].id if page.has_more else None

            def via_httpx(cursor: str | None, stream: str = stream,
                          params: dict[str, Any] = params) -> tuple[int, str | None]:
                query: dict[str, Any] = {"limit": 100, **params}
                if "expand" in query:
                    query["expand[]"] = query.pop("expand")
                if cursor:
                    query["starting_after"] = cursor
                body = raw.get(f"/v1/{stream}", params=query).json()
                data = body["data"]
                return len(data), data[-1]["id"] if body["has_more"] else None

            print(f"{stream}:")
            raw.delete("/_fake/requests")
            report("stripe SDK (client-observed)", walk(via_sdk, args.pages))
            log = raw.get("/_fake/requests").json()["requests"]
            server_ms = [r["duration_ms"] / 1000 for r in log]
            report("server handling time (log)", server_ms)
            report("raw httpx, no SDK parsing", walk(via_httpx, args.pages))
        print(f"server RSS after paging: {server.memory_info().rss / 2**20:.0f} MiB")
        print(f"server CPU time total: {sum(server.cpu_times()[:2]):.1f}s")
        print(f"median server handling per page overall: "
              f"{statistics.median(server_ms) * 1000:.2f}ms (last stream)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
