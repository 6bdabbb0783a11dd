"""`explain` after real syncs (dev server, fake Stripe over HTTP, both databases): the
parts add up to the stored values by hand-computed figures; the API answers the same;
each transition lists what it fired."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal as D

import httpx
from pydantic import SecretStr
from sqlmodel import select
from temporalio.client import Client

from fake_stripe import FakeStripeServer
from revsync.automations import rule_store
from revsync.explain import render, report
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import RuleOutcome
from revsync.web.app import create_app
from tests.helpers.e2e import connect_workspace, import_emails, sync
from tests.helpers.stripe_objects import charge, customer, monthly

TOKEN = "explain-platform-key-0123456789"


async def step_recorded(settings: Settings, workspace_id: int) -> None:
    """Wait until a rule step of the workspace recorded its outcome."""
    for _ in range(400):
        with db.session(settings.resolved_database_url) as session:
            if session.exec(select(RuleOutcome).where(
                    RuleOutcome.workspace_id == workspace_id)).first() is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no rule step ran")


async def test_explain_adds_up_and_names_what_fired(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None,
) -> None:
    # ann: $15.00 a month and EUR 20.00 a month (at 1.08: 21.60): MRR 36.60.
    # Charges $50.00 and EUR 30.00 with EUR 10.00 refunded (EUR 20.00 = 21.60): LTV 71.60.
    s = fake.state
    ann = customer(s, "ann@example.com")
    usd = s.put("subscription", {"customer": ann, "status": "active",
                                 "items": {"data": [{"price": monthly(s, 1500)}]}})["id"]
    s.put("subscription", {"customer": ann, "status": "active", "currency": "eur",
                           "items": {"data": [{"price": monthly(s, 2000, "eur")}]}})
    charge(s, ann, 5000)
    refunded = charge(s, ann, 3000, "eur")
    s.update("charge", refunded, {"amount_refunded": 1000})
    workspace = connect_workspace(settings, f"ex-{uuid.uuid4().hex[:6]}",
                                  fx_rates={"eur": "1.08"})
    import_emails(settings, workspace, ["ann@example.com"])
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        rule_store.create(settings, session, workspace.id, {
            "name": "downgrade", "trigger": {"kind": "mrr_contracted", "min_percent": 25},
            "action": {"kind": "notify_team", "template": "team_alert"}})
    await sync(client, settings, workspace)  # the first sync: silent
    s.update("subscription", usd, {"status": "canceled"})  # MRR 36.60 -> 21.60 (-41%)
    await sync(client, settings, workspace)
    await step_recorded(settings, workspace.id)  # the rule's run, started by the sync

    with db.session(settings.resolved_database_url) as session:
        subscriber = report.by_email(session, workspace.id, "ann@example.com")
        found = report.report(session, subscriber)
    assert found["stored"] == {"mrr": "21.60", "ltv": "71.60",
                               "tags": ["customer", "saas.monthly"]}
    now = found["derived_now"]
    assert (now["mrr"], now["ltv"]) == ("21.60", "71.60")
    [part] = now["customers"]
    counted = [x["converted"]["cents"] for x in part["subscriptions"] if x["converted"]]
    assert counted == ["21.60"] and sum(map(D, counted)) == D(now["mrr"])
    statuses = sorted((x["status"], x["counted"]) for x in part["subscriptions"])
    assert statuses == [("active", True), ("canceled", False)]
    ltv_parts = sorted(c["converted"]["cents"] for c in part["charges"] if c["converted"])
    assert ltv_parts == ["21.60", "50.00"] and sum(map(D, ltv_parts)) == D("71.60")

    [transition, starting] = found["transitions"]  # newest first
    assert (transition["mrr"], transition["dispatched"]) == (["36.60", "21.60"], True)
    assert (starting["mrr"], starting["silent"], starting["fires"]) == ([None, "36.60"], True, [])
    [fired] = transition["fires"]
    assert fired["automation"].startswith("rule-") and fired["action"] == "start"
    assert [x["outcome"] for x in transition["rule_steps"]] == ["no team address configured"]

    text = "\n".join(render.lines("ann@example.com", found))
    assert "derived now: MRR 21.60  LTV 71.60" in text
    assert "policy: MRR counts active, trialing; reporting in usd; FX eur=1.08" in text
    assert "not counted (status policy)" in text and "-> 21.60" in text

    admin = settings.model_copy(update={"platform_key": SecretStr(TOKEN)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(admin, client)),
                                 base_url="http://app.test",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        path = f"/api/workspaces/{workspace.name}/subscribers"
        answer = await http.get(f"{path}/{subscriber.id}/explain")
        assert answer.status_code == 200 and answer.json() == found
        missing = await http.get(f"{path}/999999/explain")
        assert missing.status_code == 404
        assert (await http.get(f"{path}/x/explain")).status_code == 404
