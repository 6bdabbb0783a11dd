"""An SMTP server refuses a recipient: the step fails and is retried, and neither the
error nor anything else in the workflow's history names the address (history is kept by
Temporal and shown in its UI, outside the product's own data)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from revsync.automations.types import START, AutomationResult
from revsync.settings import Settings
from tests.automations.conftest import Inbox, smtp_server
from tests.automations.test_rule_workflows import add_rule, fire
from tests.automations.test_sequences import seed

TEAM = "secret-ops@shop.example"
RULE = {"name": "tell ops", "trigger": {"kind": "tag_added", "tag": "churned"},
        "action": {"kind": "notify_team", "template": "team_alert", "recipients": [TEAM]}}


class Refusing(Inbox):
    """Refuses every recipient, naming it, as real servers do."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server(Refusing()) as server:
        yield server


async def test_a_refused_recipient_is_not_written_into_workflow_history(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    smtp: tuple[Inbox, int],
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    rule = add_rule(mail_settings, ws, RULE)
    handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(hours=3))  # every attempt of the step
    assert await handle.result() == AutomationResult(emails=0)
    assert smtp[0].messages == []
    # Each event as protobuf text: payloads (the step's results) show as their JSON.
    history = "\n".join(str(event) for event in (await handle.fetch_history()).events)
    assert TEAM not in history
    assert "ann@example.com" not in history
    assert "recipient refused (550)" in history
