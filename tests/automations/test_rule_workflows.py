"""A workspace's own rules as workflows, on the time-skipping server: condition at fire
time, a sequence's delays, its stop trigger and stop condition, a rule edited or turned
off mid-sequence, team steps; email through SMTP on loopback."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from revsync.automations import defaults, rule_store
from revsync.automations.client import send, unsubscribe
from revsync.automations.definitions import rule_automation
from revsync.automations.types import (
    START,
    STOP,
    WIN_BACK,
    AutomationResult,
    Command,
    automation_workflow_id,
)
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import StripeSubscription, Subscriber, SubscriberTag
from tests.automations.conftest import Inbox
from tests.automations.test_sequences import WIN_BACK_SUBJECTS, outbox, seed

SEQUENCE: dict[str, Any] = {
    "name": "win back high spenders",
    "trigger": {"kind": "tag_added", "tag": "churned"},
    "condition": "ltv > 400",
    "action": {"kind": "sequence", "stop": {"kind": "tag_removed", "tag": "churned"},
               "stop_condition": "tag = vip",
               "steps": [{"template": "win_back_1"},
                         {"template": "win_back_2", "after_days": 3},
                         {"template": "team_alert", "to": "team", "after_days": 1},
                         {"template": "win_back_3", "after_days": 7}]},
}

ALERT = {"name": "failed payment", "trigger": {"kind": "tag_added", "tag": "past-due"},
         "action": {"kind": "notify_team", "template": "team_alert",
                    "recipients": ["billing@shop.example"]}}


def add_rule(settings: Settings, workspace_id: int, doc: dict[str, Any]) -> int:
    with db.session(settings.resolved_database_url) as session:
        rule_id = rule_store.create(settings, session, workspace_id, doc).id
    assert rule_id is not None
    return rule_id


async def fire(client: Client, settings: Settings, ws: int, rule_id: int, action: str,
               subscriber: int, transition: int, key: str = "") -> WorkflowHandle[Any, Any]:
    await send(client, settings.task_queue, ws, "auto",
               Command(rule_automation(rule_id), action, subscriber, transition, key))
    return client.get_workflow_handle(
        automation_workflow_id("auto", rule_automation(rule_id), subscriber),
        result_type=AutomationResult)


async def started(client: Client, settings: Settings, ws: int, doc: dict[str, Any],
                  subscriber: int, transition: int) -> tuple[int, WorkflowHandle[Any, Any]]:
    """The rule saved, and started for the subscriber's transition: (rule id, its run)."""
    rule = add_rule(settings, ws, doc)
    return rule, await fire(client, settings, ws, rule, START, subscriber, transition)


async def churned_into(client: Client, settings: Settings
                       ) -> tuple[int, int, int, int, WorkflowHandle[Any, Any]]:
    """ann churned (LTV 420.00) and SEQUENCE started for it: ws, ann, transition, rule, run."""
    ws, ann, transition = seed(settings, ["churned"], ["customer"])
    rule, handle = await started(client, settings, ws, SEQUENCE, ann, transition)
    return ws, ann, transition, rule, handle


def set_subscriber(settings: Settings, subscriber_id: int, **values: Any) -> None:
    with db.session(settings.resolved_database_url) as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        for name, value in values.items():
            setattr(subscriber, name, value)
        session.add(subscriber)
        session.commit()


async def test_a_sequence_sends_its_steps_on_their_days_to_whom_they_name(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])  # ltv 420.00
    rule = add_rule(mail_settings, ws, SEQUENCE)
    handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(days=3, hours=12))  # day 3: the second email; not day 4
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:2]
    await time_env.sleep(timedelta(days=8))
    assert await handle.result() == AutomationResult(emails=4)
    assert [to for to, _ in smtp[0].messages] == [
        ["ann@example.com"], ["ann@example.com"], ["team@shop.example"], ["ann@example.com"]]
    assert outbox(mail_settings) == [(f"rule-{rule}/{ann}/{transition}/{step}", "sent")
                                     for step in range(4)]


async def test_the_condition_is_read_when_the_rule_fires(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    rule = add_rule(mail_settings, ws, SEQUENCE)
    set_subscriber(mail_settings, ann, ltv=D("400.00"))  # saved while ltv was 420
    handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=0)
    assert smtp[0].messages == [] and outbox(mail_settings) == []


async def test_the_stop_trigger_on_day_two_stops_the_sequence(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition, rule, handle = await churned_into(worker_client, mail_settings)
    await time_env.sleep(timedelta(days=2))
    await fire(worker_client, mail_settings, ws, rule, STOP, ann, transition + 1,
               "stop trigger")
    assert await handle.result() == AutomationResult(emails=1, stopped="stop trigger")
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:1]


async def test_the_stop_condition_is_checked_before_each_later_step(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, _transition, _rule, handle = await churned_into(worker_client, mail_settings)
    await time_env.sleep(timedelta(days=3, hours=1))
    with db.session(mail_settings.resolved_database_url) as session:
        session.add(SubscriberTag(workspace_id=ws, subscriber_id=ann, tag="vip",
                                  source="platform"))
        session.commit()
    await time_env.sleep(timedelta(days=9))
    assert await handle.result() == AutomationResult(emails=2)
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:2]


async def test_a_rule_turned_off_mid_sequence_sends_nothing_more(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, _ann, _transition, rule, handle = await churned_into(worker_client, mail_settings)
    await time_env.sleep(timedelta(days=1))
    with db.session(mail_settings.resolved_database_url) as session:
        rule_store.set_enabled(session, ws, rule, False)
    await time_env.sleep(timedelta(days=11))
    assert await handle.result() == AutomationResult(emails=1)


async def test_one_email_per_transition_however_often_it_is_handed_over(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["past-due"], [], mrr=("150.00", "0.00"))
    rule = add_rule(mail_settings, ws, ALERT)
    for _ in range(3):
        handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    assert await handle.result() == AutomationResult(emails=1)
    assert [to for to, _ in smtp[0].messages] == [["billing@shop.example"]]


async def test_a_one_step_rule_ends_after_its_step_and_a_later_transition_runs_again(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    """A one-step rule's run is its start and its step: no timer keeps it waiting for
    more. A later transition starts the next run; a transition handed over again after
    its run ended finds its email sent and sends nothing."""
    ws, ann, transition = seed(mail_settings, ["past-due"], [], mrr=("150.00", "0.00"))
    rule = add_rule(mail_settings, ws, ALERT)
    first = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    assert await first.result() == AutomationResult(emails=1)
    history = (await first.fetch_history()).events
    assert not [e for e in history if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in history
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] == [
        "revsync.run_rule_step"]
    again = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    assert await again.result() == AutomationResult(emails=0)
    later = await fire(worker_client, mail_settings, ws, rule, START, ann, transition + 1)
    assert await later.result() == AutomationResult(emails=1)
    assert outbox(mail_settings) == [(f"rule-{rule}/{ann}/{t}/0", "sent")
                                     for t in (transition, transition + 1)]
    assert len(smtp[0].messages) == 2


TRIAL_ENDS = {"name": "trial ends in 3 days", "trigger": {"kind": "trial_ends_in", "days": 3},
              "action": {"kind": "email", "template": "thank_you"}}


def on_trial_for_14_days(settings: Settings) -> tuple[int, int, int]:
    """ann starts a 14-day trial now: her trialing subscription in the mirror, the Stripe
    tag `trial`, and the transition that added it."""
    ws, ann, transition = seed(settings, ["trial"], [], mrr=("0.00", "0.00"))
    with db.session(settings.resolved_database_url) as session:
        session.add(StripeSubscription(
            workspace_id=ws, id="sub_trial", customer="cus_ann", status="trialing",
            created=int(time.time()), fetched_at=time.time(),
            data={"id": "sub_trial", "status": "trialing",
                  "trial_end": int(time.time()) + 14 * 86_400}))
        session.add(SubscriberTag(workspace_id=ws, subscriber_id=ann, tag="trial",
                                  source="stripe"))
        session.commit()
    return ws, ann, transition


async def test_trial_ends_in_3_days_fires_on_day_11_for_a_trial_still_on_trial(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = on_trial_for_14_days(mail_settings)
    _rule, handle = await started(worker_client, mail_settings, ws, TRIAL_ENDS, ann, transition)
    await time_env.sleep(timedelta(days=10, hours=23))
    assert smtp[0].messages == []  # not yet: 14 - 3 = day 11
    await time_env.sleep(timedelta(hours=3))
    assert len(smtp[0].messages) == 1
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=1)


async def test_trial_ends_in_3_days_is_cancelled_by_a_conversion_on_day_9(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = on_trial_for_14_days(mail_settings)
    rule, handle = await started(worker_client, mail_settings, ws, TRIAL_ENDS, ann, transition)
    await time_env.sleep(timedelta(days=9))
    # The conversion removes `trial`: dispatch turns that into a stop (rule_commands).
    await fire(worker_client, mail_settings, ws, rule, STOP, ann, transition + 1, "trial over")
    await time_env.sleep(timedelta(days=6))
    assert await handle.result() == AutomationResult(emails=0, stopped="trial over")
    assert smtp[0].messages == []


async def test_a_timer_that_ran_out_after_the_tag_left_sends_nothing(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    """A stop lost or late: at fire time the subscriber's own tags decide."""
    ws, ann, transition = on_trial_for_14_days(mail_settings)
    _rule, handle = await started(worker_client, mail_settings, ws, TRIAL_ENDS, ann, transition)
    await time_env.sleep(timedelta(days=5))
    with db.session(mail_settings.resolved_database_url) as session:
        for tag in session.exec(select(SubscriberTag).where(SubscriberTag.subscriber_id == ann)):
            session.delete(tag)
        session.commit()
    await time_env.sleep(timedelta(days=8))
    assert await handle.result() == AutomationResult(emails=0)
    assert smtp[0].messages == []


async def test_unsubscribing_stops_a_running_sequence_at_once(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, _transition, rule, handle = await churned_into(worker_client, mail_settings)
    await time_env.sleep(timedelta(days=1))
    with db.session(mail_settings.resolved_database_url) as session:
        sequences = rule_store.sequence_rule_ids(session, ws)
    with db.session(mail_settings.resolved_database_url) as session:
        win_back = defaults.default_rule(session, ws, WIN_BACK).id
    assert sequences == [win_back, rule]  # the default win-back is a sequence too
    assert await unsubscribe(worker_client, "auto", ann, sequences) is True
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=1, stopped="unsubscribed")
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:1]
