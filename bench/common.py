"""What the benchmarks share: the fake Stripe process, a fresh database, a worker process,
and figures read off the fake's request log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from revsync.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FETCH = "revsync.fetch_stream_pages"
PG_ADMIN = os.environ.get("REVSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def start_fake(customers: int, seed: int, latency_ms: float, key: str,
               extra: Sequence[str] = ()) -> tuple[subprocess.Popen[str], str]:
    """The fake Stripe server as its own process; its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fake_stripe", "--port", "0", "--customers",
         str(customers), "--seed", str(seed), "--api-key", key, "--latency-ms",
         str(latency_ms), *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def database(kind: str, tmp: Path) -> str:
    """A new, empty SQLite file or PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite'}"
    name = f"revsync_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def worker_command() -> list[str]:
    """How to run `worker.py`; with BENCH_PROFILE=<file> set, under py-spy, which writes
    the worker's collapsed stacks there when stopped with SIGINT (`stop_worker`)."""
    command = [sys.executable, str(ROOT / "worker.py")]
    if target := os.environ.get("BENCH_PROFILE"):
        spy = str(Path(sys.executable).with_name("py-spy"))
        command = [spy, "record", "--format", "raw", "--rate", "50", "--nonblocking",
                   "-o", target, "--", *command]
    return command


def start_worker(settings: Settings, temporal_address: str) -> subprocess.Popen[bytes]:
    """`worker.py` with these settings, on the Temporal server at `temporal_address` (peak
    RSS and CPU figures are py-spy's when profiling)."""
    env = {**settings.environment(os.environ), "TEMPORAL_ADDRESS": temporal_address}
    return subprocess.Popen(worker_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def stop_worker(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Stop a worker from `start_worker`: py-spy writes its profile only on SIGINT."""
    process.send_signal(signal.SIGINT if os.environ.get("BENCH_PROFILE") else signal.SIGTERM)
    process.wait(timeout=timeout)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this driver and of its children, by what they run
    (worker, fake Stripe, Temporal); read before the children stop."""
    me = psutil.Process()
    found = {"driver": cpu_seconds(me)}
    for child in me.children():
        try:
            line = " ".join(child.cmdline())
            name = ("worker" if "worker.py" in line else "fake Stripe" if "fake_stripe" in line
                    else "Temporal" if "temporal" in line else line[:30])
            found[name] = found.get(name, 0.0) + cpu_seconds(child)
        except psutil.Error:
            continue  # ended meanwhile
    return found


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU seconds of one process so far."""
    times = process.cpu_times()
    return float(times.user + times.system)


def fake_requests(base_url: str) -> list[dict[str, Any]]:
    """Every request the fake answered, with its account, status and time."""
    entries: list[dict[str, Any]] = httpx.get(f"{base_url}/_fake/requests",
                                               timeout=60).json()["requests"]
    return entries


def is_listing(entry: dict[str, Any]) -> bool:
    return str(entry["method"]) == "GET" and entry["endpoint"] not in ("GET /v1/account",)


def rate(stamps: list[float]) -> float:
    """Requests per second from the first to the last."""
    stamps = sorted(stamps)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0


def profile(stamps: list[float], window: float = 10.0) -> list[float]:
    """Requests per second in consecutive windows from the first request."""
    if not stamps:
        return []
    start = min(stamps)
    counts = [0] * (int((max(stamps) - start) // window) + 1)
    for stamp in stamps:
        counts[int((stamp - start) // window)] += 1
    return [count / window for count in counts]


async def activity_spans(client: Client, workflow_id: str, run_id: str | None, name: str
                         ) -> list[tuple[float, float, float]]:
    """(scheduled, started, completed) of each completed `name` activity, over every run
    of the workflow from `run_id` on (read off their histories)."""
    spans: list[tuple[float, float, float]] = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        scheduled: dict[int, float] = {}
        started: dict[int, float] = {}
        run_id = None
        for event in history.events:
            at = event.event_time.ToMicroseconds() / 1e6
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                if event.activity_task_scheduled_event_attributes.activity_type.name == name:
                    scheduled[event.event_id] = at
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                sid = event.activity_task_started_event_attributes.scheduled_event_id
                if sid in scheduled:
                    started[sid] = at
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                sid = event.activity_task_completed_event_attributes.scheduled_event_id
                if sid in started:
                    spans.append((scheduled[sid], started[sid], at))
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = event.workflow_execution_continued_as_new_event_attributes \
                    .new_execution_run_id
    return spans


async def fetches_in_flight(client: Client, workflow_id: str, run_id: str | None,
                            window: float = 10.0) -> tuple[list[float], list[float]]:
    """Stripe fetch activities waiting in the queue and running, averaged per window
    from the first one scheduled. Fewer waiting than the queue's partitions need leaves
    budget unused."""
    spans = await activity_spans(client, workflow_id, run_id, FETCH)
    if not spans:
        return [], []
    waiting = [(scheduled, started) for scheduled, started, _ in spans]
    running = [(started, completed) for _, started, completed in spans]
    start = min(s for s, _ in waiting)
    end = max(e for _, e in running)
    return (_occupancy(waiting, start, end, window), _occupancy(running, start, end, window))


def _occupancy(spans: list[tuple[float, float]], start: float, end: float,
               window: float) -> list[float]:
    """How many spans were open on average in each window."""
    totals = [0.0] * (int((end - start) // window) + 1)
    for low, high in spans:
        for n in range(int((low - start) // window), int((high - start) // window) + 1):
            left, right = start + n * window, start + (n + 1) * window
            totals[n] += max(0.0, min(high, right) - max(low, left))
    return [total / window for total in totals]
