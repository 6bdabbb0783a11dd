"""Workflows started before the built-in automations became rules still finish right:
a running win-back sends its emails with its old settings, and a reactivation handed to
dispatch now stops it (time-skipping server, SMTP on loopback)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from revsync.automations import dispatch
from revsync.automations.client import send
from revsync.automations.types import (
    SIGNAL,
    WIN_BACK,
    AutomationInput,
    AutomationResult,
    AutomationSignal,
    automation_workflow_id,
)
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import SubscriberTransition
from tests.automations.conftest import Inbox
from tests.automations.test_sequences import WIN_BACK_SUBJECTS, seed

DAY = 86_400


async def started_before(client: Client, settings: Settings, ws: int, ann: int,
                         transition: int) -> str:
    """A win-back as the earlier version started it: its own workflow, its delays."""
    workflow_id = automation_workflow_id("auto", WIN_BACK, ann)
    await client.start_workflow(
        "WinBackSequence", AutomationInput(ws, WIN_BACK, ann, delays_seconds=[3 * DAY, 7 * DAY]),
        id=workflow_id, task_queue=settings.task_queue, start_signal=SIGNAL,
        start_signal_args=[AutomationSignal(transition)])
    return workflow_id


def reactivated(settings: Settings, ws: int, ann: int) -> int:
    with db.session(settings.resolved_database_url) as session:
        row = SubscriberTransition(workspace_id=ws, subscriber_id=ann, source_id="evt_2",
                                   tags_added=["customer"], tags_removed=["churned"])
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


async def test_a_running_win_back_finishes_with_its_old_settings(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    workflow_id = await started_before(worker_client, mail_settings, ws, ann, transition)
    await time_env.sleep(timedelta(days=10, hours=1))
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    assert await handle.result() == AutomationResult(emails=3)
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS


async def test_a_reactivation_dispatched_now_stops_a_win_back_from_before(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    workflow_id = await started_before(worker_client, mail_settings, ws, ann, transition)
    await time_env.sleep(timedelta(days=2))
    back = reactivated(mail_settings, ws, ann)
    with db.session(mail_settings.resolved_database_url) as session:
        planned, _ = dispatch.plan(session, ws, "evt_2")
    assert [(c.automation, c.transition_id) for c in planned][-1] == (WIN_BACK, back)
    for command in planned:  # the default win-back rule's stop finds no run: harmless
        await send(worker_client, mail_settings.task_queue, ws, "auto", command)
    handle = time_env.client.get_workflow_handle(workflow_id, result_type=AutomationResult)
    assert await handle.result() == AutomationResult(emails=1, stopped="reactivated")
    assert smtp[0].subjects() == WIN_BACK_SUBJECTS[:1]
