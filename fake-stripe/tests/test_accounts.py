"""The fake serves several accounts, each with its own key and data, and delivers their
events to the platform's Connect endpoints, naming the account."""

from __future__ import annotations

import pytest
import stripe

from fake_stripe import DEFAULT_API_KEY, FakeStripe, FakeStripeServer
from fake_stripe.__main__ import parse
from fake_stripe.testing import stripe_client


def test_accounts_on_the_command_line() -> None:
    args = parse(["--account", "acct_a1:sk_test_a:200", "--account", "acct_b2:sk_test_b:0"])
    assert [(a.account_id, a.key, a.customers) for a in args.accounts] == [
        ("acct_a1", "sk_test_a", 200), ("acct_b2", "sk_test_b", 0)]


@pytest.mark.parametrize("bad", ["acct_a:sk_test_a", "cus_a:sk_test_a:1", "acct_a:pk_a:1",
                                 "acct_a:sk_test_a:many", "acct_:sk_test_a:1", ""])
def test_malformed_accounts_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(["--account", bad])
    assert exit_.value.code == 2
    assert "ACCT_ID:SECRET_KEY:CUSTOMERS" in capsys.readouterr().err


def test_connect_events_reach_only_connect_endpoints_and_name_the_account() -> None:
    platform = FakeStripe(api_keys=[DEFAULT_API_KEY])
    shop = platform.add_connected_account("acct_shop", connected=True)
    gone = platform.add_connected_account("acct_gone", connected=False)
    seen: list[tuple[str, str]] = []
    platform.add_connect_listener(lambda account, event: seen.append((account, event["type"])))
    shop.put("customer", {"email": "a@x.io"})
    gone.put("customer", {"email": "b@x.io"})  # not connected: the platform hears nothing
    platform.put("customer", {"email": "c@x.io"})  # the platform's own: not a Connect event
    assert seen == [("acct_shop", "customer.created")]
    plain = platform.webhooks.create("https://a.example/hooks", ["*"])
    connect = platform.webhooks.create("https://b.example/hooks", ["*"], connect=True)
    assert [e["id"] for e in platform.webhooks.targets("customer.created")] == [plain["id"]]
    assert [e["id"] for e in platform.webhooks.targets("customer.created", connect=True)] == [
        connect["id"]]


def test_only_the_platform_registers_connect_endpoints() -> None:
    platform = FakeStripe(api_keys=[DEFAULT_API_KEY])
    platform.add_connected_account("acct_own", connected=False, api_keys=["sk_test_own"])
    with FakeStripeServer(platform) as server:
        created = stripe_client(server).v1.webhook_endpoints.create(
            {"url": "https://hooks.example/x", "enabled_events": ["*"], "connect": True})
        assert created.application == "ca_fake_platform"
        with pytest.raises(stripe.InvalidRequestError, match="platform"):
            stripe_client(server, key="sk_test_own").v1.webhook_endpoints.create(
                {"url": "https://hooks.example/y", "enabled_events": ["*"], "connect": True})
