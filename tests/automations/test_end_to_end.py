"""Automations end to end on the dev server: Stripe change -> webhook (or a later full
sync) -> transition -> automation workflow -> email in the SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from fake_stripe import FakeStripeServer
from revsync.automations import rule_store
from revsync.automations.types import TEAM_ALERT, WIN_BACK, automation_workflow_id
from revsync.explain.report import report
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace
from revsync.temporal.client import connect
from revsync.temporal.workers import run_until
from tests.automations.conftest import Inbox
from tests.helpers.e2e import (
    connect_workspace,
    default_rule_id,
    default_rule_workflow_id,
    import_emails,
    sync,
)
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, deliver, post_event, webhook_client


@pytest.fixture
async def mail_client(temporal_env: WorkflowEnvironment, mail_settings: Settings
                      ) -> AsyncIterator[Client]:
    """A client and running workers whose settings send email to the loopback server."""
    client = await connect(mail_settings,
                           target_host=temporal_env.client.service_client.config.target_host)
    stop = asyncio.Event()
    task = asyncio.create_task(run_until(client, mail_settings, stop))
    yield client
    stop.set()
    await task


async def received(inbox: Inbox, count: int) -> list[str]:
    for _ in range(300):
        if len(inbox.messages) >= count:
            break
        await asyncio.sleep(0.05)
    return inbox.subjects()


async def quiescent_email_count(handle: WorkflowHandle[Any, Any],
                                activity: str = "revsync.run_rule_step") -> int:
    """Wait until the workflow has nothing left to do (no workflow task, no activity
    pending), then count the rule steps (each one email at most) it ever scheduled.
    Every signal it will get is already in its history, so this count is final: no
    sleep decides it."""
    for _ in range(600):
        described = (await handle.describe()).raw_description
        if not described.pending_activities and not described.HasField("pending_workflow_task"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"{handle.id} never became idle")
    emails = 0
    async for event in handle.fetch_history_events():
        scheduled = event.activity_task_scheduled_event_attributes
        emails += scheduled.activity_type.name == activity
    return emails


async def paying_ann(client: Client, settings: Settings, fake: FakeStripeServer
                     ) -> tuple[Workspace, str]:
    """ann pays $150/month: MRR 150.00, LTV 150.00; synced once (silently)."""
    s = fake.state
    ann = customer(s, "ann@example.com")
    sub = s.put("subscription", {"customer": ann, "status": "active",
                                 "items": {"data": [{"price": monthly(s, 15000)}]}})["id"]
    charge(s, ann, 15000)
    workspace = connect_workspace(settings, f"auto-{uuid.uuid4().hex[:8]}",
                                  webhook_secrets=[SECRET])
    import_emails(settings, workspace, ["ann@example.com", "ben@example.com"])
    await sync(client, settings, workspace)
    return workspace, str(sub)


async def past_due_delivered_three_times(client: Client, settings: Settings,
                                         fake: FakeStripeServer, workspace: Workspace,
                                         sub: str) -> None:
    """ann's subscription goes past due; its one event is posted three times at once and
    every post acknowledged; returns once the event's workflow (which dispatched) ended."""
    log = EventLog(fake.state)
    fake.state.update("subscription", sub, {"status": "past_due"})
    [event] = log.since(0)
    async with webhook_client(settings, client) as http:
        responses = await asyncio.gather(*(post_event(http, workspace.name, event)
                                           for _ in range(3)))
        assert [r.status_code for r in responses] == [200, 200, 200]
        await client.get_workflow_handle(responses[0].json()["workflow_id"]).result()


def transitions(settings: Settings, workspace: Workspace) -> list[tuple[str, list[str]]]:
    """The transitions that fire automations (silent ones are starting values)."""
    with db.session(settings.resolved_database_url) as session:
        return [(t.source_id, t.tags_added) for t in session.exec(
            select(SubscriberTransition).where(SubscriberTransition.workspace_id == workspace.id,
                                               col(SubscriberTransition.silent).is_(False))
            .order_by(col(SubscriberTransition.id)))]


async def test_a_cancellation_webhook_starts_the_win_back_and_sends_its_first_email(
    mail_client: Client, mail_settings: Settings, fake: FakeStripeServer,
    smtp: tuple[Inbox, int],
) -> None:
    workspace, sub = await paying_ann(mail_client, mail_settings, fake)
    assert transitions(mail_settings, workspace) == []  # the first sync is silent
    log = EventLog(fake.state)
    fake.state.cancel_subscription(sub)
    async with webhook_client(mail_settings, mail_client) as http:
        await deliver(http, mail_client, workspace.name, log.since(0))
    assert await received(smtp[0], 1) == ["We miss you at the shop"]
    assert smtp[0].messages[0][0] == ["ann@example.com"]
    assert workspace.id is not None
    with db.session(mail_settings.resolved_database_url) as session:
        ann_id = session.exec(select(SubscriberTransition.subscriber_id).where(
            col(SubscriberTransition.silent).is_(False))).one()
    handle = mail_client.get_workflow_handle(
        default_rule_workflow_id(mail_settings, workspace, WIN_BACK, ann_id))
    # Still running: it waits 3 days for the second email.
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate("test over")


async def test_a_later_full_sync_fires_for_the_changes_it_finds(
    mail_client: Client, mail_settings: Settings, fake: FakeStripeServer,
    smtp: tuple[Inbox, int],
) -> None:
    workspace, sub = await paying_ann(mail_client, mail_settings, fake)
    fake.state.cancel_subscription(sub)  # no webhook: the endpoint was not set up
    await sync(mail_client, mail_settings, workspace)
    [(source, added)] = transitions(mail_settings, workspace)
    assert source.startswith("sync/") and added == ["churned"]
    assert await received(smtp[0], 1) == ["We miss you at the shop"]
    assert workspace.id is not None
    with db.session(mail_settings.resolved_database_url) as session:
        ann_id = session.exec(select(SubscriberTransition.subscriber_id).where(
            col(SubscriberTransition.silent).is_(False))).one()
    await mail_client.get_workflow_handle(
        default_rule_workflow_id(mail_settings, workspace, WIN_BACK, ann_id)
    ).terminate("test over")


async def test_a_past_due_event_delivered_three_times_alerts_the_team_once(
    mail_client: Client, mail_settings: Settings, fake: FakeStripeServer,
    smtp: tuple[Inbox, int],
) -> None:
    workspace, sub = await paying_ann(mail_client, mail_settings, fake)
    await past_due_delivered_three_times(mail_client, mail_settings, fake, workspace, sub)
    assert workspace.id is not None
    with db.session(mail_settings.resolved_database_url) as session:
        ann_id = session.exec(select(SubscriberTransition.subscriber_id).where(
            col(SubscriberTransition.silent).is_(False))).one()
    alert = mail_client.get_workflow_handle(
        default_rule_workflow_id(mail_settings, workspace, TEAM_ALERT, ann_id))
    assert await quiescent_email_count(alert) == 1
    assert await received(smtp[0], 1) == ["Payment failed: ann@example.com (0.00 a month)"]
    assert [to for to, _ in smtp[0].messages] == [["team@shop.example"]]
    assert (await alert.describe()).status == WorkflowExecutionStatus.COMPLETED  # no wait


async def test_a_first_sync_fires_only_when_asked(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None,
) -> None:
    s = fake.state
    ann = customer(s, "ann@example.com")
    s.put("subscription", {"customer": ann, "status": "canceled",
                           "items": {"data": [{"price": monthly(s, 1000)}]}})
    charge(s, ann, 1000)
    quiet = connect_workspace(settings, f"q-{uuid.uuid4().hex[:6]}")
    loud = connect_workspace(settings, f"l-{uuid.uuid4().hex[:6]}")
    for workspace in (quiet, loud):
        import_emails(settings, workspace, ["ann@example.com"])
    await sync(client, settings, quiet)
    await sync(client, settings, loud, fire_automations=True)
    assert transitions(settings, quiet) == []
    [(source, added)] = transitions(settings, loud)
    assert source.startswith("sync/") and added == ["churned"]


async def test_workspace_rules_fire_once_when_their_condition_holds_at_fire_time(
    mail_client: Client, mail_settings: Settings, fake: FakeStripeServer,
    smtp: tuple[Inbox, int],
) -> None:
    """ann (LTV 150.00) goes past due; the event arrives three times. Of the workspace's
    two rules on past-due, only the one whose condition holds sends, and once."""
    workspace, sub = await paying_ann(mail_client, mail_settings, fake)
    assert workspace.id is not None
    with db.session(mail_settings.resolved_database_url) as session:
        for name, condition in (("big accounts", "ltv > 1000"), ("all accounts", "ltv >= 150")):
            rule_store.create(mail_settings, session, workspace.id, {
                "name": name, "trigger": {"kind": "tag_added", "tag": "past-due"},
                "condition": condition,
                "action": {"kind": "notify_team", "template": "team_alert",
                           "recipients": ["billing@shop.example"]}})
        ids = {r.name: r.id for r in rule_store.list_rules(session, workspace.id)}
        big, every = ids["big accounts"], ids["all accounts"]
    await past_due_delivered_three_times(mail_client, mail_settings, fake, workspace, sub)
    with db.session(mail_settings.resolved_database_url) as session:
        ann_id = session.exec(select(SubscriberTransition.subscriber_id).where(
            col(SubscriberTransition.silent).is_(False))).one()
    handles = {rule: mail_client.get_workflow_handle(automation_workflow_id(
        workspace.name, f"rule-{rule}", ann_id)) for rule in (big, every)}
    steps = {rule: await quiescent_email_count(h, "revsync.run_rule_step")
             for rule, h in handles.items()}
    assert steps == {big: 1, every: 1}  # one step each: "condition false", and the email
    # The default team alert (to the deployment's address) and the rule that held.
    alert = mail_client.get_workflow_handle(
        default_rule_workflow_id(mail_settings, workspace, TEAM_ALERT, ann_id))
    assert await quiescent_email_count(alert) == 1
    assert await received(smtp[0], 2) == ["Payment failed: ann@example.com (0.00 a month)"] * 2
    assert sorted(to for to, _ in smtp[0].messages) == [["billing@shop.example"],
                                                        ["team@shop.example"]]
    # explain says why each rule did or did not send for this transition.
    with db.session(mail_settings.resolved_database_url) as session:
        subscriber = session.get(Subscriber, ann_id)
        assert subscriber is not None
        [transition, starting] = report(session, subscriber)["transitions"]
    assert (transition["silent"], starting["silent"], starting["fires"]) == (False, True, [])
    team = default_rule_id(mail_settings, workspace.id, TEAM_ALERT)
    assert sorted((s["rule_id"], s["outcome"]) for s in transition["rule_steps"]) == sorted([
        (big, "condition false"), (every, "sent"), (team, "sent")])
    assert sorted(f["rule"] for f in transition["fires"]) == [
        "Team alert on a failed payment", "all accounts", "big accounts"]
    for handle in [*handles.values(), alert]:  # one-step rules end after their step
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

