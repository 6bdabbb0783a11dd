"""Disconnect Stripe: stop syncing, forget the key and the webhook endpoint, and for a
Stripe Connect workspace revoke the platform's access to the account at Stripe and
forget the account.

Subscribers keep their values and tags (the host platform owns them); a later
connect and sync brings them current again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import anyio.to_thread
import stripe
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from revsync.gateway.stripe_api import StripeUnavailable
from revsync.settings import Settings
from revsync.setup import oauth
from revsync.store import db, workspaces
from revsync.store.models import Workspace
from revsync.sync.client import workflow_id


@dataclass(frozen=True)
class Disconnected:
    endpoint_deleted: bool
    sync_cancelled: bool
    # Stripe Connect: Stripe revoked the platform's access to the account now (False
    # when the owner had revoked it already, another workspace still reads the account,
    # or the workspace has its own key).
    deauthorized: bool = False


async def disconnect(settings: Settings, client: Client, workspace_name: str) -> Disconnected:
    """Raises `connection.ConnectError`, having changed nothing, when a Connect account's
    access could not be revoked (Stripe unreachable, or Connect no longer configured)."""
    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, workspace_name)
        endpoint = workspace.webhook_endpoint_id
        connected = workspace.stripe_key_encrypted is not None
        account = workspace.stripe_account
        shared = account is not None and _others_reading(session, workspace, account)
        gateway = (workspaces.gateway(settings, workspace)
                   if connected and account is None else None)
    deauthorized = False
    if account is not None and connected and not shared:
        deauthorized = await anyio.to_thread.run_sync(oauth.deauthorize, settings, account)
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
        workspace.stripe_account = None  # no request or Connect event reaches it again
        workspace.webhook_secrets_encrypted = []
        workspace.webhook_endpoint_id = None
        session.add(workspace)
        session.commit()
    return Disconnected(deleted, cancelled, deauthorized)


def _others_reading(session: Session, workspace: Workspace, account: str) -> bool:
    """Whether another workspace still reads `account` through Stripe Connect: the grant
    is the platform's, one per account, so revoking it would cut that workspace off."""
    return session.exec(select(Workspace.id).where(
        Workspace.stripe_account == account, Workspace.id != workspace.id,
        col(Workspace.stripe_key_encrypted).is_not(None))).first() is not None
