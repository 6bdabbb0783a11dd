"""The setup and automation commands: output, and bad input refused with nothing stored."""

from __future__ import annotations

import pytest

from fake_stripe import FakeStripeServer
from revsync.automations import defaults, rule_store
from revsync.store import db, workspaces
from tests.helpers.cli import run


@pytest.fixture
def shop(env: dict[str, str], fake: FakeStripeServer) -> str:
    fake.state.put("product", {"id": "prod_gold", "name": "Gold"})
    fake.state.put("customer", {"email": "a@x.io", "metadata": {"plan": "pro"}})
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--workspace", "shop", "--metadata-keys", "plan")
    assert code == 0, out
    return "shop"


def test_products_and_suggestions(shop: str) -> None:
    code, out = run("products", "--workspace", shop)
    assert code == 0 and "prod_gold" in out and "Gold" in out
    code, out = run("suggest-metadata", "--workspace", shop)
    assert code == 0 and "plan" in out and "1 of 1" in out and "pro" in out


@pytest.mark.parametrize("args, message", [
    (["--products", "prod_nope"], "unknown product ids: prod_nope"),
    (["--products", "shoes"], "not Stripe product ids: shoes"),
    (["--products", "prod_gold", "--watch-products", "prod_x"], "not synced: prod_x"),
    (["--watch-products", "prod_gold"], "not synced: prod_gold"),
    (["--mrr-statuses", "active,canceled"], "not canceled"),
    (["--mrr-statuses", ""], "MRR counts at least one subscription status"),
])
def test_bad_options_change_nothing(shop: str, env: dict[str, str],
                                    args: list[str], message: str) -> None:
    code, out = run("options", "--workspace", shop, *args)
    assert code == 2 and message in out
    with db.session(env["DATABASE_URL"]) as session:
        workspace = workspaces.by_name(session, shop)
    assert (workspace.products, workspace.watch_products, workspace.metadata_keys,
            workspace.mrr_statuses) == ([], [], ["plan"], ["active", "trialing"])


@pytest.mark.parametrize("args, message", [
    (["set", "thank_you", "--threshold", "lots"], "threshold is a number"),
    (["set", "win_back", "--delays", "3,soon"], "numbers of days"),
    (["set", "win_back", "--delays", "3,400"], "from 0 to 365"),
    (["set", "win_back", "--threshold", "5"], "win_back has no threshold"),
    (["set", "thank_you", "--recipients", "a@x.io"], "recipients is a team_alert setting"),
    (["set", "team_alert", "--recipients", "nobody"], "not an email address"),
    (["set", "party", "--on"], "unknown automation 'party'"),
])
def test_bad_automation_settings_are_refused(shop: str, args: list[str], message: str) -> None:
    code, out = run("automations", *args, "--workspace", shop)
    assert code == 2 and message in out
    code, out = run("automations", "list", "--workspace", shop)
    assert "'threshold': '1000'" in out  # unchanged


def test_automation_settings_outbox_and_unsubscribe(shop: str) -> None:
    code, out = run("automations", "set", "win_back", "--off", "--delays", "2,5",
                    "--workspace", shop)
    assert code == 0 and ": off, {'delays_days': [2.0, 5.0]}" in out
    code, out = run("automations", "list", "--workspace", shop)
    assert code == 0 and "[2.0, 5.0]" in out and "'threshold': '100'" in out
    code, out = run("outbox", "--workspace", shop)
    assert code == 0 and "subject" in out
    code, out = run("subscribers", "unsubscribe", "nobody@x.io", "--workspace", shop)
    assert code == 2 and "no subscriber 'nobody@x.io'" in out


def test_a_deleted_default_rule_stays_deleted(shop: str, env: dict[str, str],
                                              fake: FakeStripeServer) -> None:
    with db.session(env["DATABASE_URL"]) as session:
        ws = workspaces.by_name(session, shop)
        assert ws.id is not None
        rule_id = defaults.default_rule(session, ws.id, "thank_you").id
    code, out = run("automations", "rules", "delete", str(rule_id), "--workspace", shop)
    assert code == 0, out
    code, out = run("automations", "set", "thank_you", "--threshold", "5", "--workspace", shop)
    assert code == 2 and "no thank_you rule (it was deleted)" in out
    code, out = run("automations", "list", "--workspace", shop)
    assert code == 0 and "deleted" in out
    # Connecting again does not bring it back.
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--workspace", shop)
    assert code == 0, out
    with db.session(env["DATABASE_URL"]) as session:
        assert [r.default_key for r in rule_store.list_rules(session, ws.id)] == [
            "win_back", "team_alert"]
