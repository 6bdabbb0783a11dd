"""End to end: fake Stripe over HTTP -> real workflows on the dev server -> database.

The account below is small enough to compute every figure by hand (see comments).
Runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import re
from decimal import Decimal as D

from rich.console import Console
from temporalio.client import Client

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.cli.console import summary_table
from revsync.settings import Settings
from revsync.sync.client import workflow_id
from tests.helpers.e2e import (
    KEY,
    add_user_tag,
    connect_workspace,
    import_emails,
    last_run,
    state,
    sync,
)
from tests.helpers.stripe_objects import charge, customer, monthly, subscription

SUBSCRIBERS = ["alice@example.com", "Bob@Example.com", "carol@example.com",
               "frank@example.com", "gina@example.com", "hank@example.com", "zed@example.com"]


def build_account(fake: FakeStripe) -> dict[str, str]:
    ids: dict[str, str] = {}
    # Alice, customer 1: $50/month x 2 = $100.00 MRR; paid $100, refunded $15 -> LTV $85.00;
    # a failed $50 charge counts 0. Metadata `email` collides with a built-in -> stripe_email.
    ids["a1"] = customer(fake, "Alice@Example.com",
                         metadata={"plan": "pro", "email": "billing@alice.example"})
    subscription(fake, ids["a1"], "active", monthly(fake, 5000), quantity=2)
    fake.refund(charge(fake, ids["a1"], 10000), 1500)
    charge(fake, ids["a1"], 5000, status="failed")
    # Alice, customer 2 (same email, other case/whitespace): $240/year = $20.00 MRR, ending
    # at period end -> `cancelled`; paid $240 -> LTV 240.00.
    ids["a2"] = customer(fake, "  alice@EXAMPLE.com ")
    subscription(fake, ids["a2"], "active", monthly(fake, 24000, interval="year"),
                 cancel_at_period_end=True)
    charge(fake, ids["a2"], 24000)
    # Bob: trialing, never paid -> skipped (sync without payment is off).
    ids["b"] = customer(fake, "bob@example.com")
    subscription(fake, ids["b"], "trialing", monthly(fake, 3000))
    # Carol: canceled $20/month; paid 3 x $20 -> MRR 0.00, LTV 60.00, `churned`.
    ids["c"] = customer(fake, "carol@example.com")
    subscription(fake, ids["c"], "canceled", monthly(fake, 2000))
    for _ in range(3):
        charge(fake, ids["c"], 2000)
    # Dan has no email; Erin matches no subscriber; Frank abandoned his checkout.
    charge(fake, customer(fake, None), 999)
    charge(fake, customer(fake, "erin@nowhere.example"), 999)
    ids["f"] = customer(fake, "frank@example.com")
    subscription(fake, ids["f"], "incomplete", monthly(fake, 1000))
    # Gina pays in JPY (zero-decimal): 3000 JPY/month at 0.0065 USD/JPY -> MRR 19.50,
    # one 3000 JPY charge -> LTV 19.50.
    ids["g"] = customer(fake, "gina@example.com")
    subscription(fake, ids["g"], "active", monthly(fake, 3000, currency="jpy"))
    charge(fake, ids["g"], 3000, currency="jpy")
    # Hank is past due: not in MRR by default (0.00); paid $15 earlier -> LTV 15.00.
    ids["h"] = customer(fake, "hank@example.com")
    subscription(fake, ids["h"], "past_due", monthly(fake, 1500))
    charge(fake, ids["h"], 1500)
    return ids


ALICE = (D("120.00"), D("325.00"), ["cancelled", "customer", "saas.monthly", "saas.yearly",
                                    "user:vip"],
         {"plan": "pro", "stripe_email": "billing@alice.example"})
EXPECTED = {
    "alice@example.com": ALICE,
    "bob@example.com": (None, None, [], {}),
    "carol@example.com": (D("0.00"), D("60.00"), ["churned"], {}),
    "frank@example.com": (None, None, [], {}),
    "gina@example.com": (D("19.50"), D("19.50"), ["customer", "saas.monthly"], {}),
    "hank@example.com": (D("0.00"), D("15.00"), ["customer", "past-due", "saas.monthly"], {}),
    "zed@example.com": (None, None, ["user:vip"], {}),
}


async def test_full_sync_writes_hand_computed_values(
    fake: FakeStripeServer, settings: Settings, client: Client, workers: None
) -> None:
    ids = build_account(fake.state)
    workspace = connect_workspace(settings, "acme", metadata_keys=["plan", "email"])
    other = connect_workspace(settings, "other")
    import_emails(settings, workspace, SUBSCRIBERS)
    import_emails(settings, other, ["alice@example.com"])
    add_user_tag(settings, workspace, "alice@example.com", "vip")
    add_user_tag(settings, workspace, "zed@example.com", "vip")
    set_fx(settings, "acme", {"jpy": "0.0065"})

    report = await sync(client, settings, workspace)

    assert state(settings, workspace) == EXPECTED
    assert report.status == "completed"
    assert report.customers == {"scanned": 9, "no_email": 1, "no_matching_subscriber": 1,
                                "deleted": 0}
    d = report.derive
    assert (d.customers_matched, d.customers_eligible) == (7, 5)
    assert d.skipped == {"never_paid": 1, "abandoned_checkout": 1}
    assert d.subscribers_matched == 4
    # 120.00 + 0.00 + 19.50 + 0.00 and 325.00 + 60.00 + 19.50 + 15.00
    assert (d.mrr_total, d.ltv_total) == (D("139.50"), D("419.50"))
    assert d.tags == {"customer": 3, "saas.monthly": 3, "saas.yearly": 1, "cancelled": 1,
                      "churned": 1, "past-due": 1}
    # One page per data stream (customers, subscriptions, charges) is the minimum.
    assert report.min_requests == 3
    assert report.requests - report.catalogue_requests == 3
    run = last_run(settings, workspace)
    assert (run.status, run.requests, run.min_requests) == ("completed", 6, 3)
    # Workflow history holds ids, cursors and counts: no email, no key.
    history = await client.get_workflow_handle(workflow_id("acme")).fetch_history()
    assert "example" not in history.to_json().lower() and KEY not in history.to_json()
    # The other workspace was never synced: untouched.
    assert state(settings, other) == {"alice@example.com": (None, None, [], {})}

    # Idempotent: a second run changes nothing and counts the same.
    again = await sync(client, settings, workspace)
    assert state(settings, workspace) == EXPECTED
    assert again.derive.subscribers_changed == 0
    assert (again.derive.mrr_total, again.derive.tags) == (d.mrr_total, d.tags)

    # Alice's customers are deleted in Stripe: she loses eligibility, keeps her own tag.
    fake.state.delete("customer", ids["a1"])
    fake.state.delete("customer", ids["a2"])
    cleared = await sync(client, settings, workspace)
    assert state(settings, workspace)["alice@example.com"] == (None, None, ["user:vip"], {})
    assert cleared.derive.subscribers_cleared == 1
    assert cleared.customers["deleted"] == 2


def set_fx(settings: Settings, name: str, rates: dict[str, str]) -> None:
    from revsync.store import db, workspaces

    with db.session(settings.resolved_database_url) as session:
        workspace = workspaces.by_name(session, name)
        workspace.fx_rates = rates
        session.add(workspace)
        session.commit()


async def test_amounts_without_a_rate_are_left_out_and_counted_in_the_report(
    fake: FakeStripeServer, settings: Settings, client: Client, workers: None
) -> None:
    s = fake.state
    # Ivy: $10/month and a $7 charge in usd; a £20/month subscription and a £50 charge
    # with no gbp rate -> MRR 10.00, LTV 7.00, two gbp amounts left out.
    ivy = customer(s, "ivy@example.com")
    subscription(s, ivy, "active", monthly(s, 1000))
    subscription(s, ivy, "active", monthly(s, 2000, currency="gbp"))
    charge(s, ivy, 700)
    charge(s, ivy, 5000, currency="gbp")
    # Kim pays only in gbp: paid, so eligible, but every amount is left out -> 0.00 / 0.00,
    # two more gbp amounts.
    kim = customer(s, "kim@example.com")
    subscription(s, kim, "active", monthly(s, 3000, currency="gbp"))
    charge(s, kim, 3000, currency="gbp")
    workspace = connect_workspace(settings, "fx")
    import_emails(settings, workspace, ["ivy@example.com", "kim@example.com"])

    report = await sync(client, settings, workspace)

    values = state(settings, workspace)
    assert values["ivy@example.com"][:2] == (D("10.00"), D("7.00"))
    assert values["kim@example.com"][:2] == (D("0.00"), D("0.00"))
    assert report.derive.unconverted == {"gbp": 4}
    assert (report.derive.mrr_total, report.derive.ltv_total) == (D("10.00"), D("7.00"))
    shown = Console(record=True, width=120)
    shown.print(summary_table(report, "usd"))
    assert re.search(r"amounts left out \(no FX rate\): gbp\W+4\W", shown.export_text())
