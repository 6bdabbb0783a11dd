"""Every transition trigger kind end to end on the dev server: a scripted Stripe history
for twelve subscribers, its webhook events delivered in reverse order with one of them
twice, and the hand-computed list of which rule fired for whom, each exactly once.

The workspace counts subscriptions without a payment (so trials are eligible); MRR
counts active and trialing subscriptions (the default).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlmodel import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.automations import rule_store
from revsync.automations.types import automation_workflow_id
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber
from tests.helpers.e2e import connect_workspace, import_emails, sync
from tests.helpers.stripe_objects import charge, customer, monthly
from tests.helpers.webhooks import SECRET, EventLog, post_event, webhook_client

TRIGGERS: dict[str, dict[str, Any]] = {
    "trial started": {"kind": "trial_started"},
    "trial converted": {"kind": "trial_converted"},
    "trial expired": {"kind": "trial_expired"},
    "recovered": {"kind": "recovered"},
    "reactivated": {"kind": "reactivated"},
    "cancel scheduled": {"kind": "cancel_scheduled"},
    "cancel revoked": {"kind": "cancel_revoked"},
    "expanded 10%": {"kind": "mrr_expanded", "min_percent": 10},
    "contracted 10%": {"kind": "mrr_contracted", "min_percent": 10},
    "mrr up to 100": {"kind": "mrr_crossed", "threshold": 100},
    "ltv up to 500": {"kind": "ltv_crossed", "threshold": 500},
    "payment": {"kind": "payment"},
    "refund": {"kind": "refund"},
    "past due": {"kind": "tag_added", "tag": "past-due"},
    "left yearly": {"kind": "tag_removed", "tag": "saas.yearly"},
}

# Worked out by hand from the history in `script` (MRR before -> after):
EXPECTED = {
    ("trial started", "lea"),      # no subscription -> trialing 30: trial added
    ("trial converted", "amy"),    # trialing 50 -> active 50: trial gone, a customer
    ("trial expired", "bob"),      # trialing 50 -> canceled: trial gone, churned
    ("recovered", "cat"),          # past_due -> active: past-due gone, still a customer
    ("payment", "cat"),            # ... and she paid 80.00: LTV 80 -> 160
    ("reactivated", "dan"),        # churned -> a new active 120: a customer again
    ("mrr up to 100", "dan"),      # ... MRR 0 -> 120 crosses 100
    ("cancel scheduled", "eve"),   # cancel_at_period_end set
    ("cancel revoked", "eli"),     # cancel_at_period_end cleared, still active
    ("expanded 10%", "fay"),       # 100 -> 200 (quantity 2); 100 is not below 100: no cross
    ("contracted 10%", "gus"),     # 100 -> 50
    ("ltv up to 500", "hal"),      # LTV 450 -> 550
    ("payment", "hal"),
    ("refund", "ivy"),             # LTV 300 -> 200
    ("past due", "jon"),           # active 40 -> past_due: MRR 40 -> 0 (to 0: no contraction)
    ("left yearly", "kim"),        # 1,200 a year -> 100 a month: MRR 100 -> 100
}
NAMES = ("amy", "bob", "cat", "dan", "eve", "eli", "fay", "gus", "hal", "ivy", "jon", "kim",
         "lea")


def before(s: FakeStripe) -> dict[str, Any]:
    """Everyone's state at the first (silent) sync; what `script` will change."""
    people = {name: customer(s, f"{name}@example.com") for name in NAMES}
    p30, p40, p50, p60, p80 = (monthly(s, c) for c in (3000, 4000, 5000, 6000, 8000))
    p100, p120 = monthly(s, 10000), monthly(s, 12000)
    yearly = monthly(s, 120000, interval="year")

    def sub(name: str, status: str, price: str, **fields: Any) -> str:
        return str(s.put("subscription", {"customer": people[name], "status": status,
                                          "items": {"data": [{"price": price}]}, **fields})["id"])

    for name in ("cat", "dan", "eve", "eli", "fay", "gus", "jon", "kim", "lea"):
        charge(s, people[name], 1000 if name == "lea" else 8000 if name == "cat" else 3000)
    subs = {"amy": sub("amy", "trialing", p50), "bob": sub("bob", "trialing", p50),
            "cat": sub("cat", "past_due", p80), "dan_old": sub("dan", "canceled", p30),
            "eve": sub("eve", "active", p60),
            "eli": sub("eli", "active", p60, cancel_at_period_end=True),
            "fay": sub("fay", "active", p100), "gus": sub("gus", "active", p100),
            "jon": sub("jon", "active", p40), "kim": sub("kim", "active", yearly)}
    charge(s, people["hal"], 45000)
    subs["ivy_charge"] = charge(s, people["ivy"], 30000)
    return {"people": people, "subs": subs, "prices": {30: p30, 50: p50, 120: p120,
                                                        100: p100}, "p50": p50}


def script(s: FakeStripe, at: dict[str, Any]) -> None:
    people, subs, prices = at["people"], at["subs"], at["prices"]
    s.update("subscription", subs["amy"], {"status": "active"})
    s.cancel_subscription(subs["bob"])
    s.update("subscription", subs["cat"], {"status": "active"})
    charge(s, people["cat"], 8000)
    s.put("subscription", {"customer": people["dan"], "status": "active",
                           "items": {"data": [{"price": prices[120]}]}})
    s.update("subscription", subs["eve"], {"cancel_at_period_end": True})
    s.update("subscription", subs["eli"], {"cancel_at_period_end": False})
    s.update("subscription", subs["fay"], {"items": {"data": [{"price": prices[100],
                                                               "quantity": 2}]}})
    s.update("subscription", subs["gus"], {"items": {"data": [{"price": at["p50"]}]}})
    charge(s, people["hal"], 10000)
    s.refund(subs["ivy_charge"], 10000)
    s.update("subscription", subs["jon"], {"status": "past_due"})
    s.update("subscription", subs["kim"], {"items": {"data": [{"price": prices[100]}]}})
    s.put("subscription", {"customer": people["lea"], "status": "trialing",
                           "items": {"data": [{"price": prices[30]}]}})


async def starts(client: Client, workflow_id: str) -> int:
    """How many starts the rule's workflow for this subscriber received (0: none ran)."""
    count = 0
    try:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            if event.HasField("workflow_execution_signaled_event_attributes"):
                signal = event.workflow_execution_signaled_event_attributes
                count += b'"action":"start"' in signal.input.payloads[0].data
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    return count


async def test_every_trigger_fires_for_exactly_its_subscribers_once(
    client: Client, settings: Settings, fake: FakeStripeServer, workers: None,
) -> None:
    s = fake.state
    at = before(s)
    workspace = connect_workspace(settings, f"tr-{uuid.uuid4().hex[:6]}",
                                  webhook_secrets=[SECRET], sync_without_payment=True)
    import_emails(settings, workspace, [f"{n}@example.com" for n in NAMES])
    assert workspace.id is not None
    with db.session(settings.resolved_database_url) as session:
        rule_ids = {name: rule_store.create(settings, session, workspace.id, {
            "name": name, "trigger": trigger,
            "action": {"kind": "notify_team", "template": "team_alert"}}).id
            for name, trigger in TRIGGERS.items()}
    await sync(client, settings, workspace)  # silent: nothing fires
    with db.session(settings.resolved_database_url) as session:
        ids = {row.email_norm.split("@")[0]: row.id for row in session.exec(
            select(Subscriber).where(Subscriber.workspace_id == workspace.id))
            if row.id is not None}

    log = EventLog(s)
    script(s, at)
    events = list(reversed(log.since(0)))  # every event, newest first
    duplicate = next(e for e in events if e["type"] == "customer.subscription.updated")
    async with webhook_client(settings, client) as http:
        handles = []
        for event in [*events, duplicate]:
            response = await post_event(http, workspace.name, event)
            assert response.status_code == 200, response.text
            if "workflow_id" in response.json():
                handles.append(client.get_workflow_handle(response.json()["workflow_id"]))
        await asyncio.gather(*(h.result() for h in handles))

    fired = {}
    for rule, rule_id in rule_ids.items():
        for name, subscriber_id in ids.items():
            count = await starts(client, automation_workflow_id(
                workspace.name, f"rule-{rule_id}", subscriber_id))
            if count:
                fired[(rule, name)] = count
    assert fired == dict.fromkeys(EXPECTED, 1)
