"""Start and follow the setup step's workflows from the web app and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from revsync.budget.lookup import priority_of
from revsync.settings import Settings
from revsync.setup import options
from revsync.setup.dry_run import DryRunReport
from revsync.setup.types import DryRunInput, RederiveInput, RefreshInput
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.sync.client import start_sync, workflow_id
from revsync.sync.types import SyncReport

R = TypeVar("R")


async def dry_run(client: Client, settings: Settings, workspace: Workspace,
                  products: list[str], sync_without_payment: bool) -> DryRunReport:
    assert workspace.id is not None
    handle = await _start_or_join(
        client, settings, workspace, "StripeDryRun",
        DryRunInput(workspace.id, products, sync_without_payment, settings.stripe_task_queue),
        DryRunReport, "stripe-dry-run", f"Dry run of workspace {workspace.name}")
    return await handle.result()


async def refresh_products(client: Client, settings: Settings, workspace: Workspace,
                           wait: float) -> int | None:
    """Read the product list from Stripe into the mirror, through the account's Stripe
    queue; a refresh already running is joined. How many products were stored, or None
    when it has not finished within `wait` seconds (it carries on; the page shows the
    list once it is stored). A refresh Stripe refused raises `WorkflowFailureError`."""
    assert workspace.id is not None
    handle = await _start_or_join(
        client, settings, workspace, "StripeRefreshProducts",
        RefreshInput(workspace.id, settings.stripe_task_queue), int, "stripe-products",
        f"Refresh the products of workspace {workspace.name}")
    try:
        return await asyncio.wait_for(handle.result(), wait)
    except TimeoutError:
        return None


async def _start_or_join(client: Client, settings: Settings, workspace: Workspace,
                         workflow: str, request: Any, result: type[R], id_prefix: str,
                         summary: str) -> WorkflowHandle[Any, R]:
    """The workspace's one run of a setup workflow that reads Stripe: started with the
    account's priority (its Stripe activity inherits the fairness key), or the running one
    joined."""
    return await client.start_workflow(
        workflow, request, id=f"{id_prefix}/{workspace.name}", task_queue=settings.task_queue,
        result_type=result,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=summary,
        priority=priority_of(settings, workspace),
    )


async def start_sync_of(client: Client, settings: Settings, workspace: Workspace) -> str:
    return (await start_sync(client, settings, workspace)).id


async def start_rederive(client: Client, settings: Settings, workspace: Workspace) -> str:
    assert workspace.id is not None
    handle = await client.start_workflow(
        "StripeRederive",
        RederiveInput(workspace.id),
        id=f"stripe-rederive/{workspace.name}",
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
        static_summary=f"Re-derive workspace {workspace.name} after an option change",
    )
    return handle.id


async def start_next(client: Client, settings: Settings, workspace_name: str,
                     step: str) -> str | None:
    """Start what a saved change needs (a sync or a re-derivation); its workflow id."""
    if step == options.NOTHING:
        return None
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
    if step == options.SYNC:
        return await start_sync_of(client, settings, workspace)
    return await start_rederive(client, settings, workspace)


async def progress(client: Client, workspace: Workspace) -> dict[str, Any]:
    """The running (or last) sync's progress, or `{"status": "none"}`."""
    handle = client.get_workflow_handle(workflow_id(workspace.name))
    with contextlib.suppress(RPCError):
        report = await handle.query("progress", result_type=SyncReport)
        return {"workflow_id": handle.id, **_plain(dataclasses.asdict(report))}
    return {"status": "none"}


def _plain(value: Any) -> Any:
    """Decimals as strings, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
