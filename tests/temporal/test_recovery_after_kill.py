"""SIGKILL a worker while it runs each activity of each workflow: another worker picks the
activity up within the recovery bound, measured on the Temporal server's own clock
(the killed attempt's last heartbeat -> the retry's start, from the workflow's
description and history), never by sleeping in the test.

Every phase runs at once, each with its own task queues and worker processes, so the
whole test takes about one heartbeat timeout plus process start-up.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.automations.types import WIN_BACK
from revsync.events.catch_up_client import start_catch_up
from revsync.events.types import EventInput, Target
from revsync.settings import Settings
from revsync.setup.types import DryRunInput
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from revsync.sync.client import start_sync
from revsync.temporal.client import connect
from tests.helpers.e2e import (
    KEY,
    ROOT,
    connect_workspace,
    default_rule_workflow_id,
    import_emails,
    process_env,
)
from tests.helpers.stripe_objects import charge, customer, monthly, subscription

# 10 s heartbeat timeout, then the server hands the retry to the live worker. Workflows
# carry their Stripe account's fairness key (the per-account budget), and the dev server
# hands a keyed activity's retry over several seconds later than an unkeyed one's, so
# the bound leaves room above 20 s.
RECOVERY_BOUND_SECONDS = 25.0
EMAILS = ["ann@x.io", "ben@x.io"]


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    """ann pays $20/month; ben paid once and cancelled (churned: a win-back email)."""
    s = FakeStripe(api_keys=[KEY])
    price = monthly(s, 2000)
    for email, status in (("ann@x.io", "active"), ("ben@x.io", "canceled")):
        paying = customer(s, email)
        subscription(s, paying, status, price)
        charge(s, paying, 2000)
    with FakeStripeServer(s) as server:
        yield server


@dataclass
class Phase:
    activity: str
    # Starts what runs the activity; returns the id of the workflow that runs it.
    start: Callable[[Client, Settings, Workspace, FakeStripeServer], Awaitable[str]]
    waits_for_result: bool = True


async def full_sync(client: Client, settings: Settings, workspace: Workspace,
                    fake: FakeStripeServer) -> str:
    return (await start_sync(client, settings, workspace, fire_automations=True)).id


async def win_back_email(client: Client, settings: Settings, workspace: Workspace,
                         fake: FakeStripeServer) -> str:
    await start_sync(client, settings, workspace, fire_automations=True)
    with db.session(settings.resolved_database_url) as session:
        ben = session.exec(select(Subscriber.id).where(
            Subscriber.workspace_id == workspace.id, Subscriber.email_norm == "ben@x.io")).one()
    assert ben is not None
    return default_rule_workflow_id(settings, workspace, WIN_BACK, ben)


async def stripe_event(client: Client, settings: Settings, workspace: Workspace,
                       fake: FakeStripeServer) -> str:
    assert workspace.id is not None
    ann = next(r["id"] for r in fake.state.iter_records("customer")
               if r.get("email") == "ann@x.io")
    handle = await client.start_workflow(
        "StripeEventWorkflow",
        EventInput(workspace.id, f"evt_kill{uuid.uuid4().hex[:8]}", "customer.updated",
                   1_750_000_000, [Target("customers", ann)], settings.stripe_events_task_queue),
        id=f"kill-event/{workspace.name}", task_queue=settings.task_queue)
    return handle.id


async def catch_up(client: Client, settings: Settings, workspace: Workspace,
                   fake: FakeStripeServer) -> str:
    return (await start_catch_up(client, settings, workspace, 0)).id


async def dry_run(client: Client, settings: Settings, workspace: Workspace,
                  fake: FakeStripeServer) -> str:
    assert workspace.id is not None
    handle = await client.start_workflow(
        "StripeDryRun", DryRunInput(workspace.id, stripe_task_queue=settings.stripe_task_queue),
        id=f"kill-dry-run/{workspace.name}", task_queue=settings.task_queue)
    return handle.id


PHASES = [
    Phase("revsync.start_run", full_sync),
    Phase("revsync.fetch_stream_pages", full_sync),
    Phase("revsync.sweep_mirror", full_sync),
    Phase("revsync.derive_subscribers", full_sync),
    Phase("revsync.finish_run", full_sync),
    Phase("revsync.dispatch_transitions", full_sync),
    Phase("revsync.run_rule_step", win_back_email, waits_for_result=False),
    Phase("revsync.process_event", stripe_event),
    Phase("revsync.list_event_page", catch_up),
    Phase("revsync.dry_run", dry_run),
]


def held_worker(settings: Settings, temporal: str, activity: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.helpers.held_worker", activity],
                            cwd=ROOT, env=process_env(settings, temporal),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def worker(settings: Settings, temporal: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=ROOT,
                            env=process_env(settings, temporal),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def poll(what: str, check: Callable[[], Awaitable[Any]], seconds: float = 120) -> Any:
    """Ask `check` every 0.1 s until it returns something truthy (a bounded wait)."""
    for _ in range(int(seconds * 10)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def held_heartbeat(handle: WorkflowHandle[Any, Any], activity: str) -> datetime | None:
    """The server's time of the held attempt's last heartbeat, once it has one."""
    try:
        described = (await handle.describe()).raw_description
    except RPCError:
        return None  # not started yet
    for pending in described.pending_activities:
        if (pending.activity_type.name == activity and pending.attempt == 1
                and pending.HasField("last_heartbeat_time")):
            return pending.last_heartbeat_time.ToDatetime()
    return None


async def retry_started(handle: WorkflowHandle[Any, Any], activity: str) -> datetime | None:
    """When the retried attempt started, once the history records it completed."""
    scheduled: set[int] = set()
    started: dict[int, tuple[int, datetime]] = {}
    completed: set[int] = set()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == activity:
                scheduled.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes_started = event.activity_task_started_event_attributes
            started[attributes_started.scheduled_event_id] = (
                attributes_started.attempt, event.event_time.ToDatetime())
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed.add(event.activity_task_completed_event_attributes.scheduled_event_id)
    for event_id in sorted(scheduled & completed):
        attempt, at = started[event_id]
        if attempt >= 2:
            return at
    return None


async def kill_during(phase: Phase, client: Client, settings: Settings,
                      fake: FakeStripeServer) -> float:
    """Run the phase's workflow, kill the worker holding its activity; the recovery time."""
    suffix = uuid.uuid4().hex[:8]
    mine = settings.model_copy(update={
        "task_queue": f"kill-{suffix}", "stripe_task_queue": f"kill-stripe-{suffix}",
        "stripe_events_task_queue": f"kill-events-{suffix}"})
    temporal = client.service_client.config.target_host
    own_client = await connect(mine, target_host=temporal)
    workspace = connect_workspace(mine, f"kill-{suffix}")
    import_emails(mine, workspace, EMAILS)
    first = held_worker(mine, temporal, phase.activity)
    second: subprocess.Popen[bytes] | None = None
    try:
        assert first.stdout is not None
        assert await asyncio.to_thread(first.stdout.readline) == "ready\n"
        workflow_id = await phase.start(own_client, mine, workspace, fake)
        handle = own_client.get_workflow_handle(workflow_id)
        last_beat = await poll(f"{phase.activity} held",
                               lambda: held_heartbeat(handle, phase.activity))
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = worker(mine, temporal)
        resumed = await poll(f"{phase.activity} retried",
                             lambda: retry_started(handle, phase.activity))
        if phase.waits_for_result:
            await asyncio.wait_for(handle.result(), timeout=120)
        return float((resumed - last_beat).total_seconds())
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()


async def test_a_killed_worker_is_replaced_within_the_bound_in_every_phase(
    client: Client, settings: Settings, fake: FakeStripeServer
) -> None:
    recovered = await asyncio.gather(*(kill_during(p, client, settings, fake) for p in PHASES))
    seconds = dict(zip((p.activity for p in PHASES), recovered, strict=True))
    print("recovery after SIGKILL (last heartbeat -> retry started), s:",
          {k: round(v, 1) for k, v in seconds.items()})
    assert all(0 < s <= RECOVERY_BOUND_SECONDS for s in seconds.values()), seconds
