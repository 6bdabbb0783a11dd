"""Start, attach to and follow a full sync from the client side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from revsync.budget.lookup import budget_of, priority
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Workspace
from revsync.sync.types import SyncInput, SyncReport

WORKFLOW = "StripeFullSync"
WORKSPACE_ATTRIBUTE = SearchAttributeKey.for_keyword("RevsyncWorkspace")


def workflow_id(workspace_name: str) -> str:
    return f"stripe-sync/{workspace_name}"


def ui_url(ui_base: str, namespace: str, wid: str) -> str:
    return f"{ui_base}/namespaces/{namespace}/workflows/{quote(wid, safe='')}"


async def ensure_search_attribute(client: Client) -> bool:
    """Register the workspace search attribute if we may; a sync runs without it too."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        if WORKSPACE_ATTRIBUTE.name in listed.custom_attributes:
            return True
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    WORKSPACE_ATTRIBUTE.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                },
            )
        )
        return True
    except RPCError:
        return False


async def start_sync(
    client: Client, settings: Settings, workspace: Workspace, **options: Any
) -> WorkflowHandle[object, SyncReport]:
    """Start the workspace's full sync, or attach to the one already running.

    `options` override `SyncInput` tuning fields (history_limit, split_after_pages, ...).
    """
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        budget = budget_of(session, settings, workspace)
    attributes = TypedSearchAttributes(
        [SearchAttributePair(WORKSPACE_ATTRIBUTE, workspace.name)]
        if await ensure_search_attribute(client)
        else []
    )
    return await client.start_workflow(
        WORKFLOW,
        SyncInput(
            workspace_id=workspace.id,
            stripe_task_queue=settings.stripe_task_queue,
            requests_per_second=budget.requests_per_second(settings),
            queue_partitions=settings.stripe_task_queue_partitions,
            **options,
        ),
        id=workflow_id(workspace.name),
        task_queue=settings.task_queue,
        result_type=SyncReport,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Stripe full sync of workspace {workspace.name}",
        memo={"workspace": workspace.name},
        search_attributes=attributes,
        priority=priority(budget),  # every Stripe call of the sync runs under it
    )


async def follow(
    handle: WorkflowHandle[object, SyncReport],
    on_progress: Callable[[SyncReport], None],
    interval: float = 0.5,
) -> SyncReport:
    """Poll the progress query until the sync ends; raise WorkflowFailureError if it failed."""
    result = asyncio.ensure_future(handle.result(follow_runs=True))
    while not result.done():
        with contextlib.suppress(RPCError):  # between continue-as-new runs
            on_progress(await handle.query("progress", result_type=SyncReport))
        await asyncio.wait({result}, timeout=interval)
    return result.result()

