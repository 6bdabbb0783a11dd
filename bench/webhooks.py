"""Stripe webhooks end to end, measured: acks/s, receipt-to-row latency, CPU per event.

Everything runs as separate processes, as in production: the Temporal dev server, the
fake Stripe server (seeded), one worker process (worker.py), the web app (uvicorn
serving `create_app`, started as `python bench/webhooks.py --serve`) and this driver,
which posts signed events to the app on loopback.

Per round: change one subscription item's quantity for as many distinct subscribers as
the round has events (so every event really changes a subscriber's MRR), read the
events the fake emitted from its Events API, then post them, signed, from N concurrent
senders. Latency runs from the moment a POST is sent to the moment a poller sees the
event's `stripe_event` row (committed in the same transaction as the subscriber).

    python bench/webhooks.py                                   # SQLite, 1/10/100 senders
    python bench/webhooks.py --database postgresql --concurrency 1 10 --events 50 200
    python bench/webhooks.py --concurrency 10 --events 300 --rate 20   # + 30 s at 20/s
    python bench/webhooks.py --concurrency 10 --events 300 --rules 3   # each event fires 3

With `--rules N` the workspace also has N rules on `mrr_expanded` (each event expands
MRR) that send one email each (to the outbox: no SMTP server here), and a round ends
when every one of them is written, so CPU s/event then includes N rule firings: the
dispatch signals, N rule workflows, N rule steps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import psutil
import psycopg
import stripe
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import Connection
from sqlmodel import col, func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_ADMIN, database, start_fake, worker_command
from bench.fake_stripe_serve import percentile
from bench.full_sync import KEY
from fake_stripe import generate_account, subscriber_emails
from revsync.automations import rule_store
from revsync.events.client import WORKFLOW as EVENT_WORKFLOW
from revsync.events.parsing import parse_event
from revsync.settings import Settings
from revsync.setup import connection
from revsync.store import db, workspaces
from revsync.store.models import (
    OutboxMessage,
    StripeCustomer,
    StripeEvent,
    StripeSubscription,
    Subscriber,
    SubscriberTransition,
)
from revsync.subscribers import csv_import
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport
from revsync.temporal.client import connect
from revsync.temporal.dev_server import temporal_binary
from revsync.temporal.process_exit import exit_now
from revsync.web.app import create_app

WORKSPACE = "bench"
FX_RATES = {"eur": "1.08", "gbp": "1.27", "jpy": "0.0066"}
EVENT_TYPE = "customer.subscription.updated"
STEADY_CONNECTIONS = 200  # a steady round's posts in flight at once, at most


class BenchError(Exception):
    """The benchmark could not measure what it set out to; the message says why."""


# ---- the web app process ---------------------------------------------------------------


async def serve() -> None:
    """`--serve`: the webhook app on `http_host:http_port` (0: a free port), settings from
    the environment. Prints its base URL (one line) once bound."""
    settings = Settings()
    client = await connect(settings)
    # IPPROTO_TCP explicitly, so asyncio sets TCP_NODELAY on accepted sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.http_host, settings.http_port))
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, client), log_level="warning", access_log=False,
                       lifespan="off", timeout_keep_alive=30)
    )
    print(f"http://{settings.http_host}:{sock.getsockname()[1]}", flush=True)
    await server.serve(sockets=[sock])


# ---- measurements ----------------------------------------------------------------------


@dataclass
class Target:
    """A subscription whose first item's quantity drives its subscriber's MRR."""

    subscription: str
    item: str
    quantity: int
    email: str


@dataclass
class Sample:
    event_id: str
    sent_wall: float
    sent: float  # perf_counter
    acked: float = 0.0
    status: int = 0
    seen: float | None = None  # perf_counter when the poller saw the row
    applied_wall: float | None = None  # the row's applied_at


@dataclass
class Cpu:
    processes: dict[str, float]
    machine_busy: float
    wall: float


@dataclass
class Round:
    concurrency: int
    serial: bool
    rate: float  # events/s of a steady round; 0 for senders that wait for acks
    samples: list[Sample]
    cpu: dict[str, float]
    machine_busy: float
    wall: float
    requests: int
    min_requests: int
    mrr_changed: int
    outcomes: Counter[str] = field(default_factory=Counter)
    emails: int = 0  # written by the --rules rules during the round

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 200]


class RowWatcher:
    """A thread polling `stripe_event` for the events sent and not yet seen applied."""

    def __init__(self, url: str, workspace_id: int, interval: float) -> None:
        self.url, self.workspace_id, self.interval = url, workspace_id, interval
        self._lock = threading.Lock()
        self._pending: dict[str, Sample] = {}
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="row-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def watch(self, sample: Sample) -> None:
        with self._lock:
            self._pending[sample.event_id] = sample

    def forget(self, sample: Sample) -> None:
        with self._lock:
            self._pending.pop(sample.event_id, None)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def _run(self) -> None:
        try:
            # One connection, Core statements: the poller's own CPU stays small. Each poll
            # ends its transaction, so the next one reads a fresh snapshot.
            with db.get_engine(self.url).connect() as connection:
                while not self._stop.is_set():
                    with self._lock:
                        ids = list(self._pending)
                    for start in range(0, len(ids), 500):
                        self._poll(connection, ids[start:start + 500])
                    self._stop.wait(self.interval)
        except BaseException as error:  # reported by the driver
            self.error = error

    def _poll(self, connection: Connection, ids: list[str]) -> None:
        rows = connection.execute(
            select(StripeEvent.id, StripeEvent.applied_at).where(
                StripeEvent.workspace_id == self.workspace_id, col(StripeEvent.id).in_(ids)
            )
        ).all()
        connection.rollback()
        seen = time.perf_counter()
        with self._lock:
            for event_id, applied_at in rows:
                sample = self._pending.pop(event_id, None)
                if sample is not None:
                    sample.seen = seen
                    at = applied_at if applied_at.tzinfo else applied_at.replace(tzinfo=UTC)
                    sample.applied_wall = at.timestamp()


def cpu_seconds(pids: dict[str, int]) -> Cpu:
    processes = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        processes[name] = float(times.user + times.system)
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    # guest time is already counted in user (Linux), so do not count it twice
    busy -= getattr(machine, "guest", 0.0) + getattr(machine, "guest_nice", 0.0)
    return Cpu(processes, float(busy), time.perf_counter())


# ---- setup -----------------------------------------------------------------------------


def seed_workspace(settings: Settings, args: argparse.Namespace, webhook_secret: str) -> int:
    """The bench's workspace, connected to the fake, with the account's subscribers."""
    workspace_id = connect_workspace(settings, webhook_secret)
    import_subscribers(settings, args, workspace_id)
    return workspace_id


def connect_workspace(settings: Settings, webhook_secret: str) -> int:
    connection.connect(settings, WORKSPACE, KEY, connection.options(
        fx_rates=FX_RATES, webhook_secrets=[webhook_secret]))
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, WORKSPACE)
        assert workspace.id is not None
        return workspace.id


def import_subscribers(settings: Settings, args: argparse.Namespace, workspace_id: int) -> None:
    """The account's subscriber list (`fake_stripe.subscriber_emails`), derived on import."""
    emails = subscriber_emails(generate_account(args.customers, args.seed), seed=args.seed)
    with db.session(settings.resolved_database_url) as session:
        csv_import.import_rows(session, workspace_id,
                               [(n, {"email": e}) for n, e in enumerate(emails)])


def pick_targets(url: str, workspace_id: int) -> list[Target]:
    """One active subscription per subscriber with MRR, whose first item is priced per
    unit (no tiers, no transform, amount > 0): one more unit always changes the MRR."""
    with db.session(url) as session:
        rows = session.exec(
            select(StripeSubscription.id, StripeSubscription.data, Subscriber.email_norm)
            .join(StripeCustomer, (col(StripeCustomer.workspace_id) == workspace_id)
                  & (col(StripeCustomer.id) == col(StripeSubscription.customer)))
            .join(Subscriber, (col(Subscriber.workspace_id) == workspace_id)
                  & (col(Subscriber.email_norm) == col(StripeCustomer.email_norm)))
            .where(StripeSubscription.workspace_id == workspace_id,
                   StripeSubscription.status == "active", col(Subscriber.mrr) > 0)
            .order_by(col(StripeSubscription.id))
        ).all()
    targets: list[Target] = []
    emails: set[str] = set()
    for sub_id, data, email in rows:
        items = (data.get("items") or {}).get("data") or []
        if email in emails or not items:
            continue
        item, price = items[0], items[0].get("price")
        if (isinstance(price, dict) and price.get("billing_scheme") == "per_unit"
                and not price.get("transform_quantity") and (price.get("unit_amount") or 0) > 0
                and (price.get("recurring") or {}).get("usage_type") == "licensed"):
            emails.add(email)
            targets.append(Target(sub_id, item["id"], int(item.get("quantity") or 1), email))
    return targets


async def full_sync(client: Client, settings: Settings, workspace_id: int) -> SyncReport:
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_id(session, workspace_id)
    handle = await start_sync(client, settings, workspace)
    return await asyncio.wait_for(handle.result(follow_runs=True), timeout=600)


async def wait_healthy(http: httpx.AsyncClient, web: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise BenchError(f"the web app exited with code {web.returncode}")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise BenchError("the web app did not answer /healthz within 30 s")


# ---- one round ---------------------------------------------------------------------------


async def emit_events(stripe_http: httpx.AsyncClient, targets: Sequence[Target]
                      ) -> list[dict[str, Any]]:
    """Add one unit to each target's first item; return the events Stripe emitted."""
    since = int(time.time())
    for target in targets:
        target.quantity += 1
        response = await stripe_http.post(
            f"/v1/subscriptions/{target.subscription}",
            data={"items[0][id]": target.item, "items[0][quantity]": str(target.quantity)},
        )
        if response.status_code != 200:
            raise BenchError(f"fake Stripe refused the update of {target.subscription}: "
                             f"{response.status_code} {response.text[:300]}")
    wanted = {t.subscription for t in targets}
    found: dict[str, dict[str, Any]] = {}
    params = {"type": EVENT_TYPE, "limit": "100", "created[gte]": str(since)}
    while len(found) < len(wanted):
        page = (await stripe_http.get("/v1/events", params=params)).raise_for_status().json()
        for event in page["data"]:  # newest first: the first one per subscription is ours
            subscription = event["data"]["object"]["id"]
            if subscription in wanted:
                found.setdefault(subscription, event)
        if not page["has_more"] or not page["data"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    if len(found) < len(wanted):
        raise BenchError(f"fake Stripe emitted {len(found)} {EVENT_TYPE} events for "
                         f"{len(wanted)} updated subscriptions")
    return [found[t.subscription] for t in targets]


async def send_events(http: httpx.AsyncClient, events: Sequence[dict[str, Any]],
                      concurrency: int, secret: str, watcher: RowWatcher,
                      serial: bool = False, rate: float = 0.0) -> list[Sample]:
    """Post every event from `concurrency` senders; each sends its next event once the
    last one is acknowledged, or (`serial`) once its row has been seen. With `rate`,
    event k is posted at k / rate seconds whatever came back before: a steady load."""
    samples: list[Sample] = []
    queue = iter(events)  # shared by the senders (one event loop: next() is atomic)

    async def post(event: dict[str, Any]) -> Sample:
        body = orjson.dumps(event)
        header = str(stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret, timestamp=int(time.time())))
        sample = Sample(event["id"], time.time(), time.perf_counter())
        samples.append(sample)
        watcher.watch(sample)
        try:
            response = await http.post(
                f"/webhooks/stripe/{WORKSPACE}", content=body,
                headers={"Stripe-Signature": header, "Content-Type": "application/json"})
            sample.status = response.status_code
            if response.status_code == 200 and response.json().get("duplicate"):
                sample.status = 299  # acknowledged, but no new workflow: not measured
        except httpx.HTTPError:
            sample.status = -1
        sample.acked = time.perf_counter()
        if sample.status != 200:
            watcher.forget(sample)
        return sample

    async def sender() -> None:
        for event in queue:
            sample = await post(event)
            while serial and sample.status == 200 and sample.seen is None:
                if watcher.error is not None:
                    raise BenchError(f"polling the database failed: {watcher.error!r}")
                if time.perf_counter() - sample.sent > 120:
                    raise BenchError(f"event {sample.event_id} not applied within 120 s")
                await asyncio.sleep(0.005)

    async def paced() -> None:
        start, posts = time.perf_counter(), []
        for k, event in enumerate(events):
            await asyncio.sleep(max(0.0, start + k / rate - time.perf_counter()))
            posts.append(asyncio.create_task(post(event)))
        await asyncio.gather(*posts)

    if rate:
        await paced()
    else:
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return samples


async def wait_applied(watcher: RowWatcher, processes: dict[str, subprocess.Popen[Any]],
                       events: int) -> None:
    deadline = time.monotonic() + 120 + events / 5
    while watcher.pending():
        for name, process in processes.items():
            if process.poll() is not None:
                raise BenchError(f"the {name} process exited with code {process.returncode}")
        if watcher.error is not None:
            raise BenchError(f"polling the database failed: {watcher.error!r}")
        if time.monotonic() > deadline:
            raise BenchError(f"{watcher.pending()} of {events} acknowledged events were not "
                             "applied in time (see the worker log)")
        await asyncio.sleep(0.05)


async def wait_closed(client: Client) -> None:
    """Until every event workflow has finished (its last workflow task costs CPU too)."""
    query = f'WorkflowType="{EVENT_WORKFLOW}" AND ExecutionStatus="Running"'
    deadline = time.monotonic() + 60
    while (await client.count_workflows(query)).count:
        if time.monotonic() > deadline:
            raise BenchError("event workflows still running 60 s after their rows were written")
        await asyncio.sleep(0.1)


def add_rules(settings: Settings, workspace_id: int, count: int) -> None:
    """`count` rules that each send one email when a subscriber's MRR expands."""
    with db.session(settings.resolved_database_url) as session:
        for n in range(count):
            rule_store.create(settings, session, workspace_id, {
                "name": f"bench expansion {n + 1}", "trigger": {"kind": "mrr_expanded"},
                "action": {"kind": "email", "template": "thank_you"}})


def outbox_count(url: str, workspace_id: int) -> int:
    with db.session(url) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id)).one())


def expanded(url: str, workspace_id: int, ids: list[str]) -> int:
    """Transitions of these events that expand MRR (0 < before < after): each fires every
    --rules rule once."""
    found = 0
    with db.session(url) as session:
        for start in range(0, len(ids), 500):
            found += int(session.exec(select(func.count()).select_from(SubscriberTransition)
                                      .where(SubscriberTransition.workspace_id == workspace_id,
                                             col(SubscriberTransition.source_id).in_(
                                                 ids[start:start + 500]),
                                             col(SubscriberTransition.mrr_before) > 0,
                                             col(SubscriberTransition.mrr_after)
                                             > col(SubscriberTransition.mrr_before))).one())
    return found


async def wait_emails(url: str, workspace_id: int, expected: int) -> None:
    """Until the rules' emails are all in the outbox (rule steps run after the event)."""
    deadline = time.monotonic() + 120
    while outbox_count(url, workspace_id) < expected:
        if time.monotonic() > deadline:
            raise BenchError(f"{outbox_count(url, workspace_id)} of {expected} rule emails "
                             "written after 120 s (see the worker log)")
        await asyncio.sleep(0.05)


def check_rows(url: str, workspace_id: int, ids: list[str]) -> tuple[int, Counter[str]]:
    """Events whose subscriber's MRR changed, and the outcomes recorded."""
    changed, outcomes = 0, Counter[str]()
    with db.session(url) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            moved = session.exec(
                select(SubscriberTransition.source_id).where(
                    SubscriberTransition.workspace_id == workspace_id,
                    col(SubscriberTransition.source_id).in_(chunk),
                    col(SubscriberTransition.mrr_before) != col(SubscriberTransition.mrr_after),
                )
            ).all()
            changed += len(set(moved))
            outcomes.update(session.exec(
                select(StripeEvent.outcome).where(
                    StripeEvent.workspace_id == workspace_id, col(StripeEvent.id).in_(chunk))
            ).all())
    return changed, outcomes


@dataclass
class Bench:
    settings: Settings
    workspace_id: int
    secret: str
    client: Client
    web_http: httpx.AsyncClient
    stripe_http: httpx.AsyncClient
    watcher: RowWatcher
    processes: dict[str, subprocess.Popen[Any]]
    pids: dict[str, int]
    rules: int = 0

    async def round(self, concurrency: int, targets: Sequence[Target],
                    serial: bool = False, rate: float = 0.0) -> Round:
        events = await emit_events(self.stripe_http, targets)
        min_requests = sum(len(parse_event(orjson.dumps(e)).targets) for e in events)
        (await self.stripe_http.delete("/_fake/requests")).raise_for_status()
        url = self.settings.resolved_database_url
        emails_before = outbox_count(url, self.workspace_id)
        before = cpu_seconds(self.pids)
        samples = await send_events(self.web_http, events, concurrency, self.secret,
                                    self.watcher, serial, rate)
        acked = sum(1 for s in samples if s.status == 200)
        if not acked:
            statuses = Counter(s.status for s in samples)
            raise BenchError(f"no event was acknowledged with 200: statuses {dict(statuses)}")
        await wait_applied(self.watcher, self.processes, acked)
        await wait_closed(self.client)
        if self.rules:
            fired = expanded(url, self.workspace_id, [s.event_id for s in samples])
            await wait_emails(url, self.workspace_id, emails_before + fired * self.rules)
        after = cpu_seconds(self.pids)
        counts = (await self.stripe_http.get("/_fake/requests")).raise_for_status().json()
        changed, outcomes = check_rows(self.settings.resolved_database_url, self.workspace_id,
                                       [s.event_id for s in samples if s.status == 200])
        return Round(
            concurrency=concurrency,
            serial=serial,
            rate=rate,
            samples=samples,
            cpu={k: after.processes[k] - before.processes[k] for k in self.pids},
            machine_busy=after.machine_busy - before.machine_busy,
            wall=after.wall - before.wall,
            requests=sum(counts["counts"].values()),
            min_requests=min_requests,
            mrr_changed=changed,
            outcomes=outcomes,
            emails=outbox_count(url, self.workspace_id) - emails_before,
        )


# ---- driver ------------------------------------------------------------------------------


def stop(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    if process.poll() is None:  # SIGINT for py-spy, which then writes the worker's profile
        process.send_signal(signal.SIGINT if os.environ.get("BENCH_PROFILE") else
                            signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"    {line}" for line in text)


@dataclass
class Stack:
    """The processes beside this driver: the dev server, `worker.py` and the web app (the
    fake Stripe server, started first, is in `processes` already); `close` stops them
    and removes what the run made, keeping the logs of a failed run."""

    tmp: Path
    settings: Settings
    database: str  # sqlite | postgresql
    processes: dict[str, subprocess.Popen[Any]]
    env: WorkflowEnvironment | None = None
    logs: list[IO[bytes]] = field(default_factory=list)
    target: str = ""  # the dev server's address
    web_url: str = ""

    async def start(self, dev_server_args: Sequence[str] = ()) -> None:
        self.env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_binary(), ui=False, dev_server_log_level="error",
            dev_server_extra_args=list(dev_server_args))
        self.target = self.env.client.service_client.config.target_host
        penv = {**self.settings.environment(os.environ), "TEMPORAL_ADDRESS": self.target}
        self.logs = [(self.tmp / "worker.log").open("wb"), (self.tmp / "web.log").open("wb")]
        self.processes["worker"] = subprocess.Popen(
            worker_command(), cwd=ROOT, env=penv,
            stdout=subprocess.DEVNULL, stderr=self.logs[0])
        web = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve"],
                               cwd=ROOT, env=penv, stdout=subprocess.PIPE, stderr=self.logs[1],
                               text=True)
        self.processes["web app"] = web
        assert web.stdout is not None
        self.web_url = web.stdout.readline().strip()
        if not self.web_url:
            raise BenchError(f"the web app did not start:\n{log_tail(self.tmp / 'web.log')}")

    async def close(self, failed: bool) -> None:
        for name in ("web app", "worker"):
            if name in self.processes:
                stop(self.processes[name])
        if self.env is not None:
            await self.env.shutdown()
        stop(self.processes["fake Stripe"], timeout=10)
        for log in self.logs:
            log.close()
        if self.database == "postgresql":
            db.dispose_all()
            drop_database(self.settings.resolved_database_url)
        if failed:
            for name in ("worker", "web"):
                tail = log_tail(self.tmp / f"{name}.log")
                if tail:
                    print(f"{name} log ({self.tmp / f'{name}.log'}):\n{tail}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def rounds(args: argparse.Namespace) -> list[tuple[int, int]]:
    events: list[int] = args.events
    if len(events) == 1:
        events = events * len(args.concurrency)
    if len(events) != len(args.concurrency):
        raise BenchError("--events takes one count, or one per --concurrency value")
    return list(zip(args.concurrency, events, strict=True))


async def main(args: argparse.Namespace) -> tuple[list[Round], dict[str, Any]]:
    plan = rounds(args)
    tmp = Path(tempfile.mkdtemp(prefix="revsync-bench-webhooks-"))
    url = database(args.database, tmp)
    settings = Settings(database_url=url, data_dir=tmp, secret_key=Fernet.generate_key().decode(),
                        stripe_requests_per_second=100,
                        stripe_event_requests_per_second=args.event_budget,
                        http_host="127.0.0.1", http_port=0)
    db.migrate(settings.resolved_database_url)
    info: dict[str, Any] = {"tmp": tmp}
    secret = f"whsec_{secrets.token_hex(16)}"
    fake, fake_url = start_fake(args.customers, args.seed, args.latency_ms, KEY)
    if fake_url:  # every process's Stripe
        settings = settings.model_copy(update={"stripe_api_base": fake_url})
    processes: dict[str, subprocess.Popen[Any]] = {"fake Stripe": fake}
    stack = Stack(tmp, settings, args.database, processes)
    watcher: RowWatcher | None = None
    try:
        if not fake_url:
            raise BenchError("fake Stripe did not start")
        workspace_id = seed_workspace(settings, args, secret)
        await stack.start()
        web, web_url = processes["web app"], stack.web_url
        client = await connect(settings, target_host=stack.target)
        started = time.perf_counter()
        report = await full_sync(client, settings, workspace_id)
        info["sync"] = (report, time.perf_counter() - started)
        add_rules(settings, workspace_id, args.rules)
        candidates = pick_targets(settings.resolved_database_url, workspace_id)
        info["candidates"] = len(candidates)
        largest = max([n for _, n in plan] + [round(r * args.rate_seconds) for r in args.rate])
        if largest > len(candidates):
            raise BenchError(f"a round needs {largest} distinct subscribers but only "
                             f"{len(candidates)} qualify; raise --customers or lower --events")
        me = psutil.Process()
        temporal = [p.pid for p in me.children(recursive=True) if p.name() == "temporal"]
        pids = {"worker": processes["worker"].pid, "web app": web.pid,
                **({"Temporal": temporal[0]} if temporal else {}),
                "fake Stripe": fake.pid, "driver": os.getpid()}
        watcher = RowWatcher(settings.resolved_database_url, workspace_id, args.poll_ms / 1000)
        watcher.start()
        connections = max([*args.concurrency, STEADY_CONNECTIONS if args.rate else 1])
        limits = httpx.Limits(max_connections=connections,
                              max_keepalive_connections=connections)
        async with (
            httpx.AsyncClient(base_url=web_url, limits=limits, timeout=60) as web_http,
            httpx.AsyncClient(base_url=fake_url, timeout=60,
                              headers={"Authorization": f"Bearer {KEY}"}) as stripe_http,
        ):
            await wait_healthy(web_http, web)
            bench = Bench(settings, workspace_id, secret, client, web_http, stripe_http, watcher,
                          processes, pids, args.rules)
            offset = 0

            def take(n: int) -> list[Target]:
                nonlocal offset
                chosen = [candidates[(offset + i) % len(candidates)] for i in range(n)]
                offset += n
                return chosen

            if args.warmup:
                await bench.round(1, take(args.warmup))
            results = []
            if args.serial:
                results.append(await bench.round(1, take(args.serial), serial=True))
            for concurrency, events in plan:
                results.append(await bench.round(concurrency, take(events)))
                print(f"  round of {events} events at concurrency {concurrency} done",
                      file=sys.stderr, flush=True)
            for rate in args.rate:
                results.append(await bench.round(0, take(round(rate * args.rate_seconds)),
                                                 rate=rate))
                print(f"  steady round at {rate:g} events/s done", file=sys.stderr, flush=True)
        info["worker_log"] = tmp / "worker.log"
        return results, info
    except BaseException:
        info["failed"] = True
        raise
    finally:
        if watcher is not None:
            watcher.stop()
        await stack.close(failed=bool(info.get("failed")))


# ---- report ------------------------------------------------------------------------------


def print_report(args: argparse.Namespace, results: list[Round], info: dict[str, Any]) -> None:
    report, sync_wall = info["sync"]
    budget = args.event_budget
    cores = psutil.cpu_count() or 1
    print(f"database            {args.database}")
    print(f"account             {args.customers:,} customers (seed {args.seed}), "
          f"{info['candidates']:,} subscribers eligible as event targets")
    print(f"full sync first     {sync_wall:.1f} s, {report.derive.subscribers_matched:,} "
          "subscribers with Stripe data")
    print(f"event budget        {budget:g} Stripe requests/s -> {budget / 2:g} refetch "
          "activities/s (server-side rate of the events task queue)")
    print(f"fake Stripe latency {args.latency_ms:g} ms/request; DB poll every "
          f"{args.poll_ms:g} ms; {cores} CPUs")
    print("event               customer.subscription.updated (item quantity +1), one "
          "subscriber per event within a round")
    print()

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:,.0f}" if values else "-"

    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Callable[[Round], str]) -> None:
        rows.append((label, [fn(r) for r in results]))

    def acked(r: Round) -> list[float]:
        return [s.acked - s.sent for s in r.ok]

    def applied(r: Round) -> list[float]:
        return [s.seen - s.sent for s in r.ok if s.seen is not None]

    def stamped(r: Round) -> list[float]:
        return [s.applied_wall - s.sent_wall for s in r.ok if s.applied_wall is not None]

    def span(r: Round, end: str) -> float:
        first = min(s.sent for s in r.samples)
        last = max((s.acked if end == "ack" else (s.seen or 0.0)) for s in r.ok)
        return max(last - first, 1e-9)

    row("concurrent senders", lambda r: (f"{r.rate:g}/s steady" if r.rate else
                                         f"{r.concurrency}{'*' if r.serial else ''}"))
    row("events posted", lambda r: f"{len(r.samples)}")
    row("  not acknowledged (200)", lambda r: f"{len(r.samples) - len(r.ok)}")
    row("acks/s", lambda r: f"{len(r.ok) / span(r, 'ack'):,.1f}")
    row("ack latency p50 ms", lambda r: ms(acked(r), 0.5))
    row("ack latency p99 ms", lambda r: ms(acked(r), 0.99))
    row("receipt->row p50 ms", lambda r: ms(applied(r), 0.5))
    row("receipt->row p99 ms", lambda r: ms(applied(r), 0.99))
    row("receipt->row max ms", lambda r: ms(applied(r), 1.0))
    row("  by applied_at p50 ms", lambda r: ms(stamped(r), 0.5))
    row("  by applied_at p99 ms", lambda r: ms(stamped(r), 0.99))
    row("rows updated/s", lambda r: f"{len(r.ok) / span(r, 'row'):,.1f}")
    row("subscriber MRR changed", lambda r: f"{r.mrr_changed}/{len(r.ok)}")
    row("outcomes", lambda r: ",".join(f"{k}={v}" for k, v in sorted(r.outcomes.items())))
    if args.rules:
        row(f"rule emails ({args.rules} rules)", lambda r: f"{r.emails}")
    row("Stripe requests", lambda r: f"{r.requests}")
    row("  minimum (1/target)", lambda r: f"{r.min_requests}")
    def per_event(name: str) -> Callable[[Round], str]:
        return lambda r: f"{r.cpu[name] / max(len(r.ok), 1):.4f}"

    for name in results[0].cpu:
        row(f"CPU s/event {name}", per_event(name))
    row("CPU s/event all of these",
        lambda r: f"{sum(r.cpu.values()) / max(len(r.ok), 1):.4f}")
    row("CPU s/event machine", lambda r: f"{r.machine_busy / max(len(r.ok), 1):.4f}")
    row("  outside these processes",
        lambda r: f"{(r.machine_busy - sum(r.cpu.values())) / max(len(r.ok), 1):.4f}")
    row("machine CPU busy %", lambda r: f"{100 * r.machine_busy / (r.wall * cores):.0f}")
    row("round wall s", lambda r: f"{r.wall:.1f}")
    width = max(12, *(len(v) + 2 for _, values in rows for v in values))
    for label, values in rows:
        print(f"{label:<26}" + "".join(f"{v:>{width}}" for v in values))
    print()
    if any(r.serial for r in results):
        print("* one event at a time: the sender waits for the row before the next POST. "
              "Other rounds: each sender waits only for the acknowledgement (as Stripe does).")
    print("receipt = the POST is sent; row = the poller sees the event's stripe_event row, "
          "committed with the subscriber update. CPU s/event = psutil cpu_times delta over "
          "the round (first send .. last workflow closed) / events; 'driver' is this process "
          "(senders + poller); machine = busy time of all cores, including processes outside "
          "the bench (PostgreSQL's among them).")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--events", type=int, nargs="+", default=[50, 200, 500],
                        help="events per round: one count, or one per --concurrency value")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rate", type=float, nargs="*", default=[],
                        help="events/s of steady rounds after the others: each event is "
                        "posted on schedule, whether or not the last was acknowledged")
    parser.add_argument("--rate-seconds", type=float, default=30.0,
                        help="how long each steady round posts events")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--event-budget", type=float, default=100.0,
                        help="REVSYNC_STRIPE_EVENT_REQUESTS_PER_SECOND (max 100)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="latency the fake Stripe adds to every request")
    parser.add_argument("--warmup", type=int, default=5, help="events sent first, not measured")
    parser.add_argument("--serial", type=int, default=20,
                        help="events of a first round (*) whose one sender waits for each "
                        "event's row before sending the next: latency without a backlog")
    parser.add_argument("--poll-ms", type=float, default=10.0,
                        help="how often the driver polls the database for applied events")
    parser.add_argument("--rules", type=int, default=0,
                        help="rules on mrr_expanded, one email each, that every event fires")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", action="store_true",
                        help="internal: run the web app with settings from the environment")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        asyncio.run(serve())
        exit_now(0)
    try:
        measured, details = asyncio.run(main(arguments))
    except Exception as failure:
        print(f"webhook bench failed: {type(failure).__name__}: {failure}", file=sys.stderr)
        exit_now(1)
    print_report(arguments, measured, details)
    exit_now(0)
