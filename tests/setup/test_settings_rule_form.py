"""The settings page's rule form: each trigger and action with its fields makes the rule
the JSON API makes from the same document; a refused form says why and keeps what was
typed; the condition's live count answers for the session's workspace only."""

from __future__ import annotations

import html
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from fake_stripe import FakeStripeServer
from revsync.automations import rule_store
from revsync.automations.definitions import parse_definition
from revsync.automations.triggers import TRIGGER_FIELDS
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import Subscriber, SubscriberTag
from revsync.web.rule_form import TRIGGER_LABELS
from tests.helpers.e2e import connect_workspace
from tests.helpers.pages import csrf_of, page_client

TOKEN = "rule-form-platform-key-0123456789"
# What a browser without script submits besides the chosen kinds' fields: every select
# has a value, so the fields of other kinds arrive too (and are left out of the rule).
UNTOUCHED = {"tag": "churned", "direction": "up", "stop_kind": "", "stop_tag": "churned",
             **{f"step{n}_to": "subscriber" for n in range(1, 6)}}

CASES: list[tuple[dict[str, str], dict[str, Any]]] = [
    ({"trigger_kind": "tag_added", "tag": "past-due", "mrr_at_least": "100",
      "action_kind": "notify_team", "template": "team_alert",
      "recipients": "ops@x.io, cfo@x.io"},
     {"trigger": {"kind": "tag_added", "tag": "past-due", "mrr_at_least": "100"},
      "action": {"kind": "notify_team", "template": "team_alert",
                 "recipients": ["ops@x.io", "cfo@x.io"]}}),
    ({"trigger_kind": "tag_removed", "tag": "trial", "action_kind": "webhook",
      "template": "thank_you", "threshold": "5"},  # fields no chosen kind takes
     {"trigger": {"kind": "tag_removed", "tag": "trial"}, "action": {"kind": "webhook"}}),
    ({"trigger_kind": "mrr_expanded", "min_change": "10", "min_percent": "5",
      "action_kind": "email", "template": "thank_you"},
     {"trigger": {"kind": "mrr_expanded", "min_change": "10", "min_percent": "5"},
      "action": {"kind": "email", "template": "thank_you"}}),
    ({"trigger_kind": "mrr_contracted", "min_percent": "20", "action_kind": "email",
      "template": "win_back_1"},
     {"trigger": {"kind": "mrr_contracted", "min_percent": "20"},
      "action": {"kind": "email", "template": "win_back_1"}}),
    ({"trigger_kind": "mrr_crossed", "threshold": "250.50", "direction": "down",
      "action_kind": "email", "template": "win_back_1"},
     {"trigger": {"kind": "mrr_crossed", "threshold": "250.50", "direction": "down"},
      "action": {"kind": "email", "template": "win_back_1"}}),
    ({"trigger_kind": "ltv_crossed", "threshold": "1000", "action_kind": "email",
      "template": "thank_you", "once_per_subscriber": "on"},
     {"trigger": {"kind": "ltv_crossed", "threshold": "1000", "direction": "up"},
      "action": {"kind": "email", "template": "thank_you"}, "once_per_subscriber": True}),
    ({"trigger_kind": "trial_ends_in", "days": "3", "action_kind": "sequence",
      "step1_template": "win_back_1", "step2_template": "win_back_2",
      "step2_after_days": "2", "step3_template": "team_alert", "step3_to": "team",
      "step3_after_days": "0.5", "recipients": "ops@x.io", "stop_kind": "tag_removed",
      "stop_tag": "trial", "stop_condition": "tag = customer"},
     {"trigger": {"kind": "trial_ends_in", "days": 3},
      "action": {"kind": "sequence", "recipients": ["ops@x.io"],
                 "steps": [{"template": "win_back_1"},
                           {"template": "win_back_2", "after_days": 2},
                           {"template": "team_alert", "to": "team", "after_days": 0.5}],
                 "stop": {"kind": "tag_removed", "tag": "trial"},
                 "stop_condition": "tag = customer"}}),
]


def test_the_form_has_a_field_for_every_trigger_field() -> None:
    assert set(TRIGGER_LABELS) == set().union(*TRIGGER_FIELDS.values())


@pytest.fixture
async def browser(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with page_client(settings, client, TOKEN) as http:
        yield http


def connected(settings: Settings, fake: FakeStripeServer) -> str:
    name = f"form-{uuid.uuid4().hex[:8]}"
    connect_workspace(settings, name)
    return name


async def signed_in(browser: httpx.AsyncClient, name: str) -> str:
    """The page's CSRF token, after signing in with the platform key."""
    csrf = csrf_of((await browser.get(f"/settings/{name}")).text)
    await browser.post(f"/settings/{name}/login", data={"token": TOKEN, "csrf": csrf})
    return csrf_of((await browser.get(f"/settings/{name}")).text)


def rules(settings: Settings, name: str) -> dict[str, dict[str, Any]]:
    with db.session(settings.resolved_database_url) as session:
        workspace_id = workspaces.by_name(session, name).id
        assert workspace_id is not None
        return {r.name: r.definition for r in rule_store.list_rules(session, workspace_id)}


@pytest.mark.parametrize(("fields", "expected"), CASES,
                         ids=[c[0]["trigger_kind"] for c in CASES])
async def test_the_form_makes_the_rule_the_json_document_makes(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer,
    fields: dict[str, str], expected: dict[str, Any],
) -> None:
    name = connected(settings, fake)
    csrf = await signed_in(browser, name)
    form = {**UNTOUCHED, **fields, "csrf": csrf, "name": " From the form ",
            "condition": "ltv > 500"}
    answer = await browser.post(f"/settings/{name}/rules-add", data=form)
    assert answer.status_code == 303
    page = html.unescape((await browser.get(f"/settings/{name}")).text)
    assert "Rule 'From the form' added." in page
    document = {"name": "From the form", "condition": "ltv > 500", **expected}
    assert rules(settings, name)["From the form"] == rule_store.stored_document(
        parse_definition(document))


async def test_a_refused_form_says_why_and_keeps_what_was_typed(
    settings: Settings, browser: httpx.AsyncClient, fake: FakeStripeServer,
) -> None:
    name = connected(settings, fake)
    csrf = await signed_in(browser, name)
    typed = {**UNTOUCHED, "name": "Big drop", "trigger_kind": "mrr_crossed",
             "threshold": "lots", "direction": "down", "condition": "ltv >",
             "action_kind": "sequence", "step1_template": "win_back_1",
             "step1_after_days": "2", "stop_kind": "reactivated"}
    await browser.post(f"/settings/{name}/rules-add", data={**typed, "csrf": csrf})
    page = html.unescape((await browser.get(f"/settings/{name}")).text)
    assert "trigger mrr_crossed: threshold is a number >= 0, not 'lots'" in page
    assert "condition: position 6: " in page  # the end of the expression
    assert '<input type="text" name="name" maxlength="100" value="Big drop">' in page
    assert 'name="threshold" value="lots"' in page
    assert 'name="condition" id="rule-condition" value="ltv >"' in page
    assert '<option value="mrr_crossed" selected>' in page
    assert '<option value="sequence" selected>' in page
    assert '<option value="down" selected>' in page
    assert '<option value="reactivated" selected>' in page
    assert 'name="step1_after_days" value="2"' in page
    assert "Big drop" not in rules(settings, name)
    # The form is empty again once the draft was shown.
    again = html.unescape((await browser.get(f"/settings/{name}")).text)
    assert 'value="lots"' not in again


def add_subscriber(settings: Settings, workspace_id: int, email: str, ltv: str,
                   tag: str) -> None:
    with db.session(settings.resolved_database_url) as session:
        subscriber = Subscriber(workspace_id=workspace_id, email=email, email_norm=email,
                                ltv=Decimal(ltv))
        session.add(subscriber)
        session.commit()
        assert subscriber.id is not None
        session.add(SubscriberTag(subscriber_id=subscriber.id, tag=tag, source="stripe",
                                  workspace_id=workspace_id))
        session.commit()


async def test_the_condition_count_is_the_workspaces_own(
    settings: Settings, browser: httpx.AsyncClient,
) -> None:
    name, other = f"count-{uuid.uuid4().hex[:8]}", f"count-{uuid.uuid4().hex[:8]}"
    with db.session(settings.resolved_database_url) as session:
        ids = [workspaces.get_or_create(session, n).id for n in (name, other)]
    assert ids[0] is not None and ids[1] is not None
    for email, ltv, tag in (("a@x.io", "600", "customer"), ("b@x.io", "200", "customer"),
                            ("c@x.io", "900", "churned")):
        add_subscriber(settings, ids[0], email, ltv, tag)
    add_subscriber(settings, ids[1], "a@x.io", "700", "customer")  # never counted here
    url = f"/settings/{name}/segment-count"

    before = csrf_of((await browser.get(f"/settings/{name}")).text)
    signed_out = await browser.post(url, data={"csrf": before, "expression": "ltv > 0"})
    assert signed_out.status_code == 401
    csrf = await signed_in(browser, name)
    forged = await browser.post(url, data={"expression": "ltv > 0"})
    assert forged.status_code == 403

    async def count(expression: str) -> httpx.Response:
        return await browser.post(url, data={"csrf": csrf, "expression": expression})

    # a: 600 customer, b: 200 customer, c: 900 churned.
    assert (await count("ltv > 500")).json() == {"count": 2}
    assert (await count("ltv > 500 AND tag = customer")).json() == {"count": 1}
    assert (await count("tag = customer OR tag = churned")).json() == {"count": 3}
    bad = await count("ltv > 500 AND")
    assert bad.status_code == 422
    assert bad.json()["error"]["position"] == 14
    assert bad.json()["error"]["message"].startswith("position 14: ")

    # A session of another workspace (an embed link for `other`) cannot count here.
    minted = await browser.post(f"/api/workspaces/{other}/embed-sessions",
                                headers={"Authorization": f"Bearer {TOKEN}"},
                                json={"user": "someone"})
    await browser.get(minted.json()["url"])
    theirs = csrf_of((await browser.get(f"/settings/{other}")).text)
    elsewhere = await browser.post(url, data={"csrf": theirs, "expression": "ltv > 0"})
    assert elsewhere.status_code == 404
    assert elsewhere.text == f"no workspace named {name!r}"
