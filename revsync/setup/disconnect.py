"""Disconnect Stripe: stop syncing, forget the key and the webhook endpoint.

Subscribers keep their values and tags (the host platform owns them); a later
connect and sync brings them current again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import stripe
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from revsync.gateway.stripe_api import StripeUnavailable
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.sync.client import workflow_id


@dataclass(frozen=True)
class Disconnected:
    endpoint_deleted: bool
    sync_cancelled: bool


async def disconnect(settings: Settings, client: Client, workspace_name: str) -> Disconnected:
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
        endpoint = workspace.webhook_endpoint_id
        connected = workspace.stripe_key_encrypted is not None
        gateway = workspaces.gateway(settings, workspace) if connected else None
    deleted = False
    if gateway is not None and endpoint:
        try:
            gateway.post(f"/v1/webhook_endpoints/{endpoint}", {}, method="delete")
            deleted = True
        except stripe.InvalidRequestError as error:
            if error.http_status != 404:
                raise
        except (stripe.AuthenticationError, stripe.PermissionError, StripeUnavailable):
            pass  # the key is already revoked: nothing more can be done on Stripe's side
    cancelled = False
    handle = client.get_workflow_handle(workflow_id(workspace_name))
    with contextlib.suppress(RPCError):  # never synced: no such workflow
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.cancel()
            cancelled = True
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
        workspace.stripe_key_encrypted = None
        workspace.webhook_secrets_encrypted = []
        workspace.webhook_endpoint_id = None
        session.add(workspace)
        session.commit()
    return Disconnected(deleted, cancelled)
