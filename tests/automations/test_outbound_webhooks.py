"""A rule's webhook to the host platform, received by a local HTTP server: signed,
retried by Temporal after a 500, delivered once, every attempt logged; on the
time-skipping server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import orjson
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from revsync.automations import outbound, outbound_store
from revsync.automations.types import START, AutomationResult
from revsync.settings import Settings
from revsync.store import db
from tests.automations.test_rule_workflows import add_rule, fire
from tests.automations.test_sequences import seed
from tests.helpers.receivers import Receiver, statuses

SECRET = "whsec_host_platform_0123456789"
RULE = {"name": "tell the platform", "trigger": {"kind": "tag_added", "tag": "churned"},
        "action": {"kind": "webhook"}}


@pytest.fixture
def mail_settings(mail_settings: Settings) -> Settings:
    """The receiver is on loopback and speaks plain http: a development deployment."""
    return mail_settings.model_copy(update={"outbound_allow_private": True,
                                            "outbound_allow_http": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(statuses(500)) as server:
        yield server


async def test_a_webhook_is_signed_retried_after_a_500_and_delivered_once(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    receiver: Receiver,
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"], mrr=("30.00", "0.00"))
    with db.session(mail_settings.resolved_database_url) as session:
        outbound_store.configure(mail_settings, session, ws, receiver.url, SECRET)
    rule = add_rule(mail_settings, ws, RULE)
    handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=0)

    assert len(receiver.received) == 2  # the 500, then the retry
    keys = {headers["Idempotency-Key"] for headers, _ in receiver.received}
    assert keys == {f"rule-{rule}/{ann}/{transition}/0"}
    for headers, payload in receiver.received:
        assert outbound.verify(SECRET, headers[outbound.SIGNATURE_HEADER], payload)
        assert not outbound.verify("another secret", headers[outbound.SIGNATURE_HEADER],
                                   payload)
    sent = orjson.loads(receiver.received[-1][1])
    assert {k: sent[k] for k in ("type", "workspace", "subscriber_id", "transition_id")} == {
        "type": "revsync.rule.fired", "workspace": "auto", "subscriber_id": ann,
        "transition_id": transition}
    assert sent["rule"] == {"id": rule, "name": "tell the platform",
                            "trigger": {"kind": "tag_added", "tag": "churned"}}
    assert sent["before"] == {"mrr": "30.00", "ltv": "420.00", "tags": ["customer"]}
    assert sent["after"] == {"mrr": "0.00", "ltv": "420.00", "tags": ["churned"]}
    assert "ann@example.com" not in receiver.received[-1][1].decode()

    with db.session(mail_settings.resolved_database_url) as session:
        log = [(d.attempt, d.status_code, d.delivered)
               for d in outbound_store.deliveries(session, ws)]
    assert log == [(2, 200, True), (1, 500, False)]  # newest first

    # The same transition handed over again after the workflow ended: a new run finds
    # the delivery on record and sends nothing.
    again = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(hours=2))
    await again.result()
    assert len(receiver.received) == 2


async def test_without_a_configured_url_nothing_is_sent(
    time_env: WorkflowEnvironment, worker_client: Client, mail_settings: Settings,
    receiver: Receiver,
) -> None:
    ws, ann, transition = seed(mail_settings, ["churned"], ["customer"])
    rule = add_rule(mail_settings, ws, RULE)
    handle = await fire(worker_client, mail_settings, ws, rule, START, ann, transition)
    await time_env.sleep(timedelta(hours=2))
    assert await handle.result() == AutomationResult(emails=0)
    assert receiver.received == []
    with db.session(mail_settings.resolved_database_url) as session:
        assert [d.error for d in outbound_store.deliveries(session, ws)] == [
            "no webhook URL configured for this workspace"]


@pytest.mark.parametrize("url, secret, message", [
    ("ftp://host/x", SECRET, "an http(s) URL"),
    ("https://", SECRET, "an http(s) URL"),
    ("https://host/" + "x" * 500, SECRET, "at most 500 characters"),
    ("https://host/hook", "short", "at least 16 characters"),
])
def test_bad_webhook_settings_are_refused(mail_settings: Settings, url: str, secret: str,
                                          message: str) -> None:
    ws, _, _ = seed(mail_settings, [], [])
    with db.session(mail_settings.resolved_database_url) as session:
        with pytest.raises(outbound_store.OutboundError) as raised:
            outbound_store.configure(mail_settings, session, ws, url, secret)
        assert message in str(raised.value)
        assert outbound_store.target(mail_settings, session, ws) is None
