"""What a platform pays Temporal Cloud: billable actions of a full sync, of webhook events
and of the rule firings they cause, counted from the workflow histories.

Separate processes as in production (the dev server, the fake Stripe server, `worker.py`,
the web app of `bench/webhooks.py --serve`): a full sync of a generated account, then a
burst of signed `customer.subscription.updated` events (one unit more on one item, so
each expands one subscriber's MRR) with two one-step rules on `mrr_expanded` enabled: an
email to the subscriber and a team alert. Both write to the outbox (no SMTP server here).

Once everything is idle, every workflow's history is read through the client and its
actions counted the way Temporal Cloud bills them (docs: "Temporal Cloud Actions"):

* a start 1 (a continue-as-new run is a start; signal-with-start is one action in all,
  as the server's own counter has it: its signal, event 2 of the new run's history on the
  dev server, is not counted again);
* each activity attempt 1 (the attempt number of the attempt the history recorded);
* each workflow task completion that records local activity markers 1, however many;
* a timer 1, a signal 1, a search-attribute upsert 1, an update 1, a child start 2.

Heartbeats are not in histories. They are read from the dev server's own `action`
metric (`grpc_RecordActivityTaskHeartbeat`, on its `/metrics` endpoint) before and after
each phase: that counts exactly the heartbeats that reached the server, after the SDK's
throttling, which is what is billed; a counter in the activities would count calls the
SDK then drops. The same metric's total per phase is printed beside the history count
as a check (it has no line for activity retries, so it can only be lower).

Fairness adds 0.1 per action of a workflow carrying a fairness key (Temporal Cloud, with
fairness enabled on the namespace): shown apart, not in the totals.

    python bench/actions.py                                # SQLite, 2,500 customers
    python bench/actions.py --database postgresql --events 100
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database, start_fake
from bench.full_sync import KEY
from bench.webhooks import (
    BenchError,
    RowWatcher,
    Stack,
    emit_events,
    expanded,
    full_sync,
    outbox_count,
    pick_targets,
    seed_workspace,
    send_events,
    wait_applied,
    wait_emails,
    wait_healthy,
)
from revsync.automations import rule_store
from revsync.settings import Settings
from revsync.store import db
from revsync.temporal.client import connect

SYNC, EVENT, RULE = "StripeFullSync", "StripeEventWorkflow", "AutomationRule"
TEAM = "team@bench.example"
RULES: list[dict[str, Any]] = [
    {"name": "bench: thank you for expanding", "trigger": {"kind": "mrr_expanded"},
     "action": {"kind": "email", "template": "thank_you"}},
    {"name": "bench: tell the team", "trigger": {"kind": "mrr_expanded"},
     "action": {"kind": "notify_team", "template": "team_alert", "recipients": [TEAM]}},
]
HEARTBEAT = "grpc_RecordActivityTaskHeartbeat"
LOCAL_ACTIVITY_MARKER = "core_local_activity"
# What each billed kind costs, in the order the report shows them.
PRICES = {"start": 1, "signal": 1, "activity attempt": 1, "local activity task": 1,
          "timer": 1, "search attribute upsert": 1, "update": 1, "child start": 2}
E = EventType


# ---- counting -------------------------------------------------------------------------------


@dataclass
class Tally:
    """The billed actions of some workflow runs, by kind."""

    runs: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    keyed: int = 0  # actions of runs carrying a fairness key

    @property
    def actions(self) -> int:
        return sum(PRICES[k] * n for k, n in self.kinds.items())

    def add(self, other: Tally) -> None:
        self.runs += other.runs
        self.kinds.update(other.kinds)
        self.keyed += other.keyed


def count_history(events: Iterable[HistoryEvent]) -> Tally:
    """The actions one run's history records (heartbeats are not in it)."""
    kinds: Counter[str] = Counter()
    attempts: dict[int, int] = {}  # activity scheduled event id -> attempts made
    keyed = False
    completing = False  # between a workflow task's completion and the next task
    batch_counted = False
    for event in events:
        kind = event.event_type
        if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            kinds["start"] += 1
            keyed = bool(event.workflow_execution_started_event_attributes
                         .priority.fairness_key)
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED and event.event_id != 2:
            # On the dev server, event 2 is the signal of a signal-with-start (a plain
            # start's event 2 is its first workflow task): billed with the start.
            kinds["signal"] += 1
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attempts[event.event_id] = 1
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            attempts[started.scheduled_event_id] = max(1, started.attempt)
        elif kind == E.EVENT_TYPE_TIMER_STARTED:
            kinds["timer"] += 1
        elif kind == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes \
                .search_attributes.indexed_fields
            kinds["search attribute upsert"] += set(fields) != {"TemporalChangeVersion"}
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            kinds["update"] += 1
        elif kind == E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            kinds["child start"] += 1
        elif kind == E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            kinds["signal"] += 1
        elif kind == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completing, batch_counted = True, False
        elif kind in (E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, E.EVENT_TYPE_WORKFLOW_TASK_STARTED):
            completing = False
        elif (kind == E.EVENT_TYPE_MARKER_RECORDED and completing and not batch_counted
              and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER):
            kinds["local activity task"] += 1
            batch_counted = True
    kinds["activity attempt"] += sum(attempts.values())
    tally = Tally(runs=1, kinds=+kinds)
    tally.keyed = tally.actions if keyed else 0
    return tally


async def tally_workflows(client: Client, workflow_type: str, concurrency: int = 16) -> Tally:
    """Every run of `workflow_type` in the namespace, running or closed, counted."""
    runs = [(w.id, w.run_id) async for w in
            client.list_workflows(f'WorkflowType="{workflow_type}"')]
    limit = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str, run_id: str) -> Tally:
        async with limit:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            return count_history((await handle.fetch_history()).events)

    total = Tally()
    for tally in await asyncio.gather(*(one(i, r) for i, r in runs)):
        total.add(tally)
    return total


def server_actions(metrics_url: str) -> Counter[str]:
    """The dev server's `action` counter for the default namespace, by action type, once
    two reads a moment apart agree (the server publishes its metrics every second or so)."""
    last, now = Counter[str](), _read_actions(metrics_url)
    while now != last:
        time.sleep(1.5)
        last, now = now, _read_actions(metrics_url)
    return now


def _read_actions(metrics_url: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in httpx.get(metrics_url, timeout=30).text.splitlines():
        if line.startswith("action{") and 'namespace="default"' in line:
            match = re.search(r'action_type="([^"]+)"', line)
            if match:
                found[match.group(1)] += int(float(line.rsplit(" ", 1)[1]))
    return found


# ---- waiting until nothing is left to do ---------------------------------------------------


async def quiescent(client: Client, deadline_s: float = 180) -> None:
    """Until every running workflow has neither a workflow task nor an activity pending
    (an idle one waits on a timer or a signal): its history is then final for now."""
    deadline = time.monotonic() + deadline_s
    while True:
        busy = 0
        async for listed in client.list_workflows('ExecutionStatus="Running"'):
            described = (await client.get_workflow_handle(listed.id, run_id=listed.run_id)
                         .describe()).raw_description
            busy += bool(described.pending_activities
                         or described.HasField("pending_workflow_task"))
        if not busy:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{busy} workflow(s) still busy after {deadline_s:g} s")
        await asyncio.sleep(0.5)


# ---- the run ----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    tallies: dict[str, Tally]
    server: Counter[str]  # the server's own action counter over the phase

    @property
    def heartbeats(self) -> int:
        return self.server[HEARTBEAT]

    @property
    def actions(self) -> int:
        return sum(t.actions for t in self.tallies.values()) + self.heartbeats


@dataclass
class Result:
    objects: int
    events: int
    firings: int
    sync: Phase
    burst: Phase


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_rules(settings: Settings, workspace_id: int) -> None:
    with db.session(settings.resolved_database_url) as session:
        for doc in RULES:
            rule_store.create(settings, session, workspace_id, doc)


async def measure(args: argparse.Namespace) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="revsync-bench-actions-"))
    url = database(args.database, tmp)
    settings = Settings(database_url=url, data_dir=tmp, secret_key=Fernet.generate_key().decode(),
                        stripe_requests_per_second=100, stripe_event_requests_per_second=100,
                        http_host="127.0.0.1", http_port=0)
    db.migrate(settings.resolved_database_url)
    secret = f"whsec_{secrets.token_hex(16)}"
    fake, fake_url = start_fake(args.customers, args.seed, 0, KEY)
    if fake_url:  # every process's Stripe
        settings = settings.model_copy(update={"stripe_api_base": fake_url})
    processes: dict[str, subprocess.Popen[Any]] = {"fake Stripe": fake}
    stack = Stack(tmp, settings, args.database, processes)
    watcher: RowWatcher | None = None
    failed = True
    try:
        if not fake_url:
            raise BenchError("fake Stripe did not start")
        workspace_id = seed_workspace(settings, args, secret)
        metrics_port = free_port()
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        await stack.start(["--metrics-port", str(metrics_port)])
        web, web_url = processes["web app"], stack.web_url
        client = await connect(settings, target_host=stack.target)

        before = server_actions(metrics)
        report = await full_sync(client, settings, workspace_id)
        await quiescent(client)
        synced = server_actions(metrics)
        sync = Phase("full sync", {SYNC: await tally_workflows(client, SYNC)},
                     synced - before)
        print("  full sync done", file=sys.stderr, flush=True)

        add_rules(settings, workspace_id)
        candidates = pick_targets(url, workspace_id)
        if args.events > len(candidates):
            raise BenchError(f"{args.events} events need as many subscribers; only "
                             f"{len(candidates)} qualify: raise --customers")
        watcher = RowWatcher(url, workspace_id, 0.02)
        watcher.start()
        async with (
            httpx.AsyncClient(base_url=web_url, timeout=60) as web_http,
            httpx.AsyncClient(base_url=fake_url, timeout=60,
                              headers={"Authorization": f"Bearer {KEY}"}) as stripe_http,
        ):
            await wait_healthy(web_http, web)
            events = await emit_events(stripe_http, candidates[:args.events])
            emails = outbox_count(url, workspace_id)
            samples = await send_events(web_http, events, args.concurrency, secret, watcher)
        acked = [s.event_id for s in samples if s.status == 200]
        if len(acked) != len(events):
            raise BenchError(f"{len(events) - len(acked)} event(s) not acknowledged with 200")
        await wait_applied(watcher, processes, len(acked))
        firings = expanded(url, workspace_id, acked) * len(RULES)
        await wait_emails(url, workspace_id, emails + firings)
        await quiescent(client)
        burst = Phase("webhook events",
                      {kind: await tally_workflows(client, kind) for kind in (EVENT, RULE)},
                      server_actions(metrics) - synced)
        failed = False
        return Result(sum(s.objects for s in report.streams), len(acked), firings, sync,
                      burst)
    finally:
        if watcher is not None:
            watcher.stop()
        await stack.close(failed)


# ---- report -------------------------------------------------------------------------------------


def print_report(args: argparse.Namespace, result: Result) -> None:
    sync, burst = result.sync, result.burst
    event, rule = burst.tallies[EVENT], burst.tallies[RULE]
    print(f"database            {args.database}")
    print(f"account             {args.customers:,} customers (seed {args.seed}); "
          f"{result.objects:,} Stripe objects synced")
    print(f"webhook events      {result.events:,} customer.subscription.updated, "
          f"{args.concurrency} senders; {len(RULES)} one-step rules on mrr_expanded "
          f"(email, team alert): {result.firings:,} firings")
    print()
    columns: list[tuple[str, Tally, float]] = [
        (f"full sync ({SYNC})", sync.tallies[SYNC], result.objects / 1000),
        (f"events ({EVENT})", event, result.events),
        (f"rule firings ({RULE})", rule, result.firings),
    ]
    width = 26
    print(f"{'billed actions':<26}" + "".join(f"{label:>{width + 8}}" for label, _, _ in columns))
    print(f"{'  runs':<26}" + "".join(f"{t.runs:>{width + 8},}" for _, t, _ in columns))
    for kind in PRICES:
        if any(t.kinds[kind] for _, t, _ in columns):
            print(f"  {kind:<24}" + "".join(f"{t.kinds[kind] * PRICES[kind]:>{width + 8},}"
                                            for _, t, _ in columns))
    print(f"{'  total from histories':<26}"
          + "".join(f"{t.actions:>{width + 8},}" for _, t, _ in columns))
    print(f"{'  per unit':<26}" + "".join(f"{t.actions / unit:>{width + 8},.2f}"
                                          for _, t, unit in columns))
    print("  (units: 1,000 objects synced; one webhook event; one rule firing)")
    print()
    print(f"heartbeats that reached the server: full sync {sync.heartbeats:,}, "
          f"events and rules {burst.heartbeats:,}")
    print(f"actions per 1,000 objects synced:  {sync.actions / (result.objects / 1000):.2f} "
          "(heartbeats included)")
    print(f"actions per webhook event:         {event.actions / result.events:.2f} "
          f"(its own workflow); {burst.actions / result.events:.2f} with the "
          f"{result.firings / result.events:g} rule firings it caused and the heartbeats")
    print(f"actions per rule firing:           {rule.actions / max(result.firings, 1):.2f}")
    keyed = sum(t.keyed for _, t, _ in columns)
    print(f"fairness (+0.1 per keyed action):  +{keyed / 10:,.1f} on "
          f"{sum(t.actions for _, t, _ in columns):,} (not in the figures above)")
    print()
    print("the server's own action counter, by type (no line for activity retries):")
    for phase in (sync, burst):
        counted = sum(t.actions for t in phase.tallies.values()) + phase.heartbeats
        print(f"  {phase.name:<16} {sum(phase.server.values()):>8,} against {counted:,} "
              "counted: " + ", ".join(f"{k} {v:,}" for k, v in sorted(phase.server.items())))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2_500)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    print_report(arguments, asyncio.run(measure(arguments)))
