"""`starter.py sync` as a user runs it: a separate process, real workers, real server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.settings import Settings
from revsync.sync.client import workflow_id
from tests.helpers.e2e import KEY, ROOT, connect_workspace, import_emails, last_run, process_env


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    state = FakeStripe(api_keys=[KEY])
    customer = state.put("customer", {"email": "Pat@Example.com"})
    state.put("charge", {"customer": customer["id"], "amount": 4200, "amount_captured": 4200,
                         "status": "succeeded", "currency": "usd", "captured": True})
    with FakeStripeServer(state) as server:
        yield server


async def starter(client: Client, settings: Settings, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "starter.py"), *args, cwd=ROOT,
        env=process_env(settings, client.service_client.config.target_host),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, " ".join(out.decode().split())


async def test_sync_command_shows_the_summary(
    fake: FakeStripeServer, settings: Settings, client: Client, workers: None
) -> None:
    workspace = connect_workspace(settings, "cli")
    import_emails(settings, workspace, ["pat@example.com"])
    code, out = await starter(client, settings, "sync", "--workspace", "cli")
    assert code == 0, out
    assert "stripe-sync/cli" in out and "completed" in out
    assert "Total LTV (usd) │ 42.00" in out
    assert "3 vs minimum 3 (1.000x)" in out


async def test_sync_twice_attaches_to_the_running_sync(
    fake: FakeStripeServer, settings: Settings, client: Client
) -> None:
    name = f"twice-{settings.task_queue}"  # unique on the shared dev server
    connect_workspace(settings, name)
    # No worker yet: the first sync stays running while the second is asked for.
    first = await starter(client, settings, "sync", "--workspace", name, "--no-wait")
    second = await starter(client, settings, "sync", "--workspace", name, "--no-wait")
    assert first[0] == second[0] == 0, (first, second)
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id(name)}'")]
    assert len(runs) == 1
    await client.get_workflow_handle(workflow_id(name)).terminate("test over")


async def test_sync_with_a_revoked_key_fails_cleanly(
    fake: FakeStripeServer, settings: Settings, client: Client, workers: None
) -> None:
    workspace = connect_workspace(settings, "revoked")
    fake.state.api_keys = {"sk_test_rotated"}
    code, out = await starter(client, settings, "sync", "--workspace", "revoked")
    assert code == 1
    assert "sync failed" in out and "Invalid API Key" in out
    assert KEY not in out
    run = last_run(settings, workspace)
    assert run.status == "failed" and run.error and KEY not in run.error
