"""Shared steps of the end-to-end tests: connect, import, sync, read back."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from temporalio.client import Client

from revsync.automations import defaults
from revsync.automations.definitions import rule_automation
from revsync.automations.types import automation_workflow_id
from revsync.settings import Settings
from revsync.setup import connection
from revsync.store import db, workspaces
from revsync.store.models import Subscriber, SubscriberTag, SyncRun, Workspace
from revsync.subscribers import csv_import
from revsync.sync.client import start_sync
from revsync.sync.types import SyncReport

KEY = "sk_test_revsync_tests"
ROOT = Path(__file__).resolve().parents[2]


def process_env(settings: Settings, temporal: str) -> dict[str, str]:
    """The environment that gives a worker or starter process these settings and this
    Temporal server (wide columns: output is matched as one line)."""
    return {**settings.environment(os.environ), "TEMPORAL_ADDRESS": temporal,
            "COLUMNS": "200"}


def connect_workspace(settings: Settings, name: str, key: str = KEY,
                      **options: Any) -> Workspace:
    """Connect with a key, to the Stripe of `settings` (the test's fake: `stripe_api_base`)."""
    connection.connect(settings, name, key, connection.options(**options))
    with db.session(settings.resolved_database_url) as session:
        return workspaces.by_name(session, name)


def import_emails(settings: Settings, workspace: Workspace, emails: list[str]) -> None:
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        csv_import.import_rows(session, workspace.id,
                                [(n, {"email": e}) for n, e in enumerate(emails, 2)])


def add_user_tag(settings: Settings, workspace: Workspace, email: str, tag: str) -> None:
    with db.session(settings.resolved_database_url) as session:
        subscriber = session.exec(
            select(Subscriber).where(Subscriber.workspace_id == workspace.id,
                                     Subscriber.email_norm == email)
        ).one()
        assert subscriber.id is not None and workspace.id is not None
        session.add(SubscriberTag(subscriber_id=subscriber.id, tag=tag, source="user",
                                  workspace_id=workspace.id))
        session.commit()


async def sync(client: Client, settings: Settings, workspace: Workspace,
               **options: int) -> SyncReport:
    handle = await start_sync(client, settings, workspace, **options)
    return await handle.result(follow_runs=True)


def state(settings: Settings, workspace: Workspace) -> dict[str, Any]:
    """email -> (mrr, ltv, sorted tags with source, metadata): everything a sync writes."""
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(
            select(Subscriber).where(Subscriber.workspace_id == workspace.id)
            .order_by(col(Subscriber.email_norm))
        ).all()
        tags = session.exec(
            select(SubscriberTag).where(SubscriberTag.workspace_id == workspace.id)
        ).all()
    by_id: dict[int | None, list[str]] = {}
    for tag in tags:
        by_id.setdefault(tag.subscriber_id, []).append(
            tag.tag if tag.source == "stripe" else f"{tag.source}:{tag.tag}"
        )
    return {
        s.email_norm: (s.mrr, s.ltv, sorted(by_id.get(s.id, [])), s.stripe_metadata)
        for s in rows
    }


def synced_values(settings: Settings, workspace: Workspace) -> dict[str, Any]:
    """email -> (mrr, ltv, tags): what the oracle in tests/oracle.py computes."""
    return {email: (mrr, ltv, tags) for email, (mrr, ltv, tags, _) in
            state(settings, workspace).items()}


def last_run(settings: Settings, workspace: Workspace) -> SyncRun:
    with db.session(settings.resolved_database_url) as session:
        return session.exec(
            select(SyncRun).where(SyncRun.workspace_id == workspace.id)
            .order_by(col(SyncRun.id).desc())
        ).first() or SyncRun(workspace_id=0, workflow_id="", run_key="")


def money(value: str) -> Decimal:
    return Decimal(value)


def default_rule_id(settings: Settings, workspace_id: int, kind: str) -> int:
    """The id of the workspace's default rule `kind` (win_back, thank_you, team_alert)."""
    with db.session(settings.resolved_database_url) as session:
        rule_id = defaults.default_rule(session, workspace_id, kind).id
    assert rule_id is not None
    return rule_id


def default_rule_name(settings: Settings, workspace_id: int, kind: str) -> str:
    """The automation name (rule-<id>) of the workspace's default rule `kind`."""
    return rule_automation(default_rule_id(settings, workspace_id, kind))


def default_rule_workflow_id(settings: Settings, workspace: Workspace, kind: str,
                             subscriber_id: int) -> str:
    """The workflow that runs the default rule `kind` for one subscriber."""
    assert workspace.id is not None
    return automation_workflow_id(workspace.name,
                                  default_rule_name(settings, workspace.id, kind),
                                  subscriber_id)
