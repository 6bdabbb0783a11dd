"""Stripe's limits, enforced when asked: per account and per endpoint of an account, over
a one-second window, each account on its own budget; 429s carry the reason and are in
the log with the account. The window's clock is held still, so nothing here depends on
how fast the machine is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from fake_stripe import FakeStripe, FakeStripeServer

KEY = "sk_test_fake"


@pytest.fixture
def limited() -> Iterator[tuple[FakeStripeServer, list[float]]]:
    state = FakeStripe(api_keys=[KEY])
    state.add_connected_account("acct_B")
    now = [1000.0]
    state.faults.limits.clock = lambda: now[0]
    with FakeStripeServer(state) as server:
        yield server, now


def get(server: FakeStripeServer, path: str, account: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}"}
    if account:
        headers["Stripe-Account"] = account
    return httpx.get(f"{server.base_url}{path}", headers=headers)


def test_an_account_over_its_limit_gets_429s_and_another_account_does_not(
    limited: tuple[FakeStripeServer, list[float]]
) -> None:
    server, now = limited
    server.state.faults.set(account_rate_limit=5)
    platform = [get(server, "/v1/customers") for _ in range(7)]
    other = [get(server, "/v1/customers", "acct_B") for _ in range(5)]
    assert [r.status_code for r in platform] == [200] * 5 + [429] * 2
    assert platform[5].headers["stripe-rate-limited-reason"] == "global-rate"
    assert platform[5].json()["error"]["code"] == "rate_limit"
    assert [r.status_code for r in other] == [200] * 5  # its own budget
    now[0] += 1.0  # a second later the window has room again
    assert get(server, "/v1/customers").status_code == 200
    by_account = Counter((e.account, e.status) for e in server.state.log.entries())
    assert by_account == {("platform", 200): 6, ("platform", 429): 2, ("acct_B", 200): 5}


def test_one_endpoint_over_its_limit_leaves_the_others_open(
    limited: tuple[FakeStripeServer, list[float]]
) -> None:
    server, _ = limited
    server.state.faults.set(account_rate_limit=100, endpoint_rate_limit=3)
    customers = [get(server, "/v1/customers").status_code for _ in range(4)]
    charges = get(server, "/v1/charges")
    assert customers == [200, 200, 200, 429]
    assert charges.status_code == 200
    refused = [e for e in server.state.log.entries() if e.status == 429]
    assert [e.endpoint for e in refused] == ["GET /v1/customers"]


def test_refused_requests_do_not_use_the_budget(
    limited: tuple[FakeStripeServer, list[float]]
) -> None:
    server, now = limited
    server.state.faults.set(account_rate_limit=2)
    assert [get(server, "/v1/customers").status_code for _ in range(5)] == [200, 200, 429,
                                                                            429, 429]
    now[0] += 1.0
    assert [get(server, "/v1/customers").status_code for _ in range(3)] == [200, 200, 429]


def test_the_command_line_enforces_stripes_test_mode_limits_when_asked() -> None:
    from fake_stripe.__main__ import fault_config, parse

    def limits(*argv: str) -> tuple[float, float]:
        config = fault_config(parse(list(argv)))
        return config.account_rate_limit, config.endpoint_rate_limit

    assert limits() == (0, 0)
    assert limits("--enforce-rate-limits") == (25, 25)
    assert limits("--enforce-rate-limits", "--account-rate-limit", "100") == (100, 25)
    assert limits("--endpoint-rate-limit", "10") == (0, 10)
    for bad in (["--account-rate-limit", "-1"], ["--endpoint-rate-limit", "x"]):
        with pytest.raises(SystemExit) as exit_info:
            parse(bad)
        assert exit_info.value.code == 2, bad
