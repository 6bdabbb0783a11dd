"""The default rules' workflows on the time-skipping server, email through SMTP on
loopback: the win-back's days, its stops, the team alert and the thank-you.

Days of timers pass in seconds; the SMTP server shows what a subscriber received.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from sqlmodel import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from revsync.automations.client import send
from revsync.automations.defaults import ensure_default_rules
from revsync.automations.types import (
    START,
    STOP,
    TEAM_ALERT,
    THANK_YOU,
    WIN_BACK,
    AutomationResult,
    Command,
    automation_workflow_id,
)
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import OutboxMessage, Subscriber, SubscriberTransition, Workspace
from tests.automations.conftest import Inbox
from tests.helpers.e2e import default_rule_name

WIN_BACK_SUBJECTS = ["We miss you at the shop", "Anything we could have done better?",
                     "A last note from us"]




def seed(settings: Settings, added: list[str], removed: list[str],
         mrr: tuple[str, str] = ("30.00", "0.00")) -> tuple[int, int, int]:
    """Workspace "auto" with its default rules, subscriber ann, and one recorded
    transition: (ws, subscriber, transition)."""
    with db.session(settings.resolved_database_url) as session:
        workspace = Workspace(name="auto")
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        ann = Subscriber(workspace_id=workspace.id, email="ann@example.com",
                         email_norm="ann@example.com", mrr=D(mrr[1]), ltv=D("420.00"),
                         stripe_customer_ids=["cus_ann"])
        session.add(ann)
        session.commit()
        assert ann.id is not None
        transition = SubscriberTransition(
            workspace_id=workspace.id, subscriber_id=ann.id, source_id="evt_1",
            tags_added=added, tags_removed=removed, tags_after=added,
            mrr_before=D(mrr[0]), mrr_after=D(mrr[1]),
            ltv_before=D("420.00"), ltv_after=D("420.00"))
        session.add(transition)
        session.commit()
        assert transition.id is not None
        seeded = workspace.id, ann.id, transition.id
    ensure_default_rules(settings.resolved_database_url, "auto")
    return seeded


async def command(client: Client, settings: Settings, workspace_id: int, kind: str,
                  action: str, subscriber_id: int, transition_id: int, key: str = "") -> str:
    """Hand the default rule `kind` a start or stop, as dispatch does; its workflow id."""
    name = default_rule_name(settings, workspace_id, kind)
    await send(client, settings.task_queue, workspace_id, "auto",
               Command(name, action, subscriber_id, transition_id, key))
    return automation_workflow_id("auto", name, subscriber_id)


def outbox(settings: Settings) -> list[tuple[str, str]]:
    with db.session(settings.resolved_database_url) as session:
        return [(m.idempotency_key, m.status) for m in session.exec(
            select(OutboxMessage).order_by(OutboxMessage.id))]  # type: ignore[arg-type]


async def test_a_win_back_sequence_runs_its_days_in_seconds(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    began = await time_env.get_current_time()
    workflow_id = await command(worker_client, mail_settings, ws, WIN_BACK, START, ann,
                                transition)
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    # Default delays: 3 days, then 7 more; then the run ends.
    # (A handle from get_workflow_handle does not skip time by itself on this server;
    # sleeping the environment does.)
    await time_env.sleep(timedelta(days=10, hours=2))
    assert await handle.result() == AutomationResult(emails=3)
    assert await time_env.get_current_time() - began >= timedelta(days=10)
    inbox = smtp[0]
    assert inbox.subjects() == WIN_BACK_SUBJECTS
    assert [to for to, _ in inbox.messages] == [["ann@example.com"]] * 3
    name = default_rule_name(mail_settings, ws, WIN_BACK)
    assert outbox(mail_settings) == [(f"{name}/{ann}/{transition}/{step}", "sent")
                                     for step in range(3)]


async def test_reactivation_on_day_two_stops_the_sequence(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    workflow_id = await command(worker_client, mail_settings, ws, WIN_BACK, START, ann,
                                transition)
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    await time_env.sleep(timedelta(days=2))
    # The reactivation is a later transition of the same subscriber: the stop trigger.
    await command(worker_client, mail_settings, ws, WIN_BACK, STOP, ann, transition + 1,
                  "stop trigger")
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=1, stopped="stop trigger")
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:1]


async def test_an_unsubscribed_subscriber_gets_no_more_win_back_email(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    workflow_id = await command(worker_client, mail_settings, ws, WIN_BACK, START, ann,
                                transition)
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    await time_env.sleep(timedelta(days=1))
    with db.session(mail_settings.resolved_database_url) as session:
        subscriber = session.get(Subscriber, ann)
        assert subscriber is not None
        subscriber.unsubscribed = True
        session.add(subscriber)
        session.commit()
    await time_env.sleep(timedelta(days=3, hours=2))
    # The second step finds the subscriber unsubscribed and ends the run.
    assert await handle.result() == AutomationResult(emails=1)
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:1]


async def test_the_team_alert_fires_once_for_three_duplicate_past_due_events(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["past-due"], [], mrr=("150.00", "0.00"))
    for _ in range(3):  # the same transition handed over three times
        workflow_id = await command(worker_client, mail_settings, ws, TEAM_ALERT, START, ann,
                                    transition)
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    assert await handle.result() == AutomationResult(emails=1)
    [(recipients, message)] = smtp[0].messages
    assert recipients == ["team@shop.example"]
    assert message["Subject"] == "Payment failed: ann@example.com (0.00 a month)"
    body = message.get_payload()
    assert isinstance(body, str)
    for fact in ("Subscriber: ann@example.com", "MRR before the failure: 150.00", "LTV: 420.00",
                 "Stripe customer: cus_ann"):
        assert fact in body
    name = default_rule_name(mail_settings, ws, TEAM_ALERT)
    assert outbox(mail_settings) == [(f"{name}/{ann}/{transition}/0", "sent")]


async def test_the_thank_you_names_its_threshold_once_ever(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, [], [])
    workflow_id = await command(worker_client, mail_settings, ws, THANK_YOU, START, ann,
                                transition, "once")
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=1)
    [(recipients, message)] = smtp[0].messages
    assert recipients == ["ann@example.com"] and message["Subject"] == "Thank you"
    body = message.get_payload()
    assert isinstance(body, str)
    # $threshold is the default rule's trigger threshold; $ltv the subscriber's LTV.
    assert "more than 1,000.00 with us (420.00 in total)" in " ".join(body.split())
