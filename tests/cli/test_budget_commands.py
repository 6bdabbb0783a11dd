"""`budget` shows and sets a workspace's Stripe budget; `webhooks register-connect`
registers the platform's Connect endpoint. Bad input is one line and changes nothing."""

from __future__ import annotations

import pytest

from fake_stripe import FakeStripeServer
from revsync.store import db, workspaces
from tests.helpers.cli import run


@pytest.fixture
def shop(env: dict[str, str], fake: FakeStripeServer) -> str:
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--workspace", "shop")
    assert code == 0, out
    return "shop"


def weight(env: dict[str, str], name: str) -> float:
    with db.session(env["DATABASE_URL"]) as session:
        return workspaces.by_name(session, name).budget_weight


def test_budget_shows_the_account_and_sets_the_weight(shop: str, env: dict[str, str]) -> None:
    code, out = run("budget", "--workspace", shop)
    assert code == 0, out
    assert "Stripe account acct_platform" in out and "(test mode)" in out
    assert "full sync 10 requests/s" in out and "weight 1," in out
    code, out = run("budget", "--workspace", shop, "--weight", "1.5")
    assert code == 0 and "full sync 15 requests/s" in out, out
    assert weight(env, shop) == 1.5


@pytest.mark.parametrize("value", ["0", "11", "-1", "lots"])
def test_a_weight_out_of_range_is_refused(shop: str, env: dict[str, str], value: str) -> None:
    code, out = run("budget", "--workspace", shop, "--weight", value)
    assert code == 2 and "--weight" in out
    assert weight(env, shop) == 1.0


def test_budget_of_an_unknown_workspace(env: dict[str, str]) -> None:
    code, out = run("budget", "--workspace", "nowhere")
    assert code == 2 and "nowhere" in out


def test_register_connect_needs_a_url_and_the_platform_key(env: dict[str, str]) -> None:
    code, out = run("webhooks", "register-connect", "--url", "hooks.example.com")
    assert code == 2 and "must be an http(s) URL" in out
    code, out = run("webhooks", "register-connect", "--url", "https://hooks.example.com")
    assert code == 1 and "REVSYNC_STRIPE_PLATFORM_KEY" in out


def test_register_connect_prints_the_secret_once(
    env: dict[str, str], fake: FakeStripeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVSYNC_STRIPE_PLATFORM_KEY", env["STRIPE_TEST_KEY"])
    monkeypatch.setenv("REVSYNC_STRIPE_API_BASE", fake.base_url)
    code, out = run("webhooks", "register-connect", "--url", "https://hooks.example.com/")
    assert code == 0, out
    [endpoint] = fake.state.webhook_endpoints()
    assert endpoint["application"] is not None
    assert endpoint["url"] == "https://hooks.example.com/webhooks/stripe/connect"
    assert f"REVSYNC_STRIPE_CONNECT_WEBHOOK_SECRET={endpoint['secret']}" in out


def test_connect_is_not_a_workspace_name(env: dict[str, str], fake: FakeStripeServer) -> None:
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--workspace", "connect")
    assert code == 2 and "not 'connect'" in out
