"""Where a rule's webhook may go: a local HTTP server stands for the inside of the
deployment's network. A rule cannot make the product send anything to it unless the
deployment allows private addresses, neither when the URL is saved nor when it is sent
(a name that resolves to loopback, a setting changed in between, DNS that answers
differently the second time). A receiver that drips, answers too much or redirects is
cut off, and the delivery log keeps a category, never the network's own words.

The rule's step runs as its worker runs it (the activity, outside a workflow), so each
test takes seconds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from revsync.activities.automations import AutomationActivities
from revsync.automations import outbound_store
from revsync.automations.types import RuleStepInput
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import OutboundDelivery
from tests.automations.conftest import free_port
from tests.automations.test_rule_workflows import add_rule
from tests.automations.test_sequences import seed
from tests.helpers import receivers
from tests.helpers.receivers import Receiver
from tests.helpers.webhooks import webhook_client

SECRET = "whsec_host_platform_0123456789"
RULE = {"name": "tell the platform", "trigger": {"kind": "tag_added", "tag": "churned"},
        "action": {"kind": "webhook"}}
PUBLIC = "93.184.215.14"  # an address on the internet (example.com's, once)
REFUSED = "refused: address not allowed"


@pytest.fixture
def local(settings: Settings) -> Settings:
    """A development deployment: private addresses and plain http allowed."""
    return settings.model_copy(update={"outbound_allow_private": True,
                                       "outbound_allow_http": True})


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    """Private addresses refused; plain http allowed, so only the address decides."""
    return settings.model_copy(update={"outbound_allow_http": True})


@pytest.fixture
def rule(settings: Settings) -> tuple[int, int, int, int]:
    """(workspace, rule, subscriber, transition): a webhook rule and a transition to send."""
    ws, ann, transition = seed(settings, ["churned"], ["customer"])
    return ws, add_rule(settings, ws, RULE), ann, transition


def configure(settings: Settings, ws: int, url: str) -> None:
    with db.session(settings.resolved_database_url) as session:
        outbound_store.configure(settings, session, ws, url, SECRET)


def send(settings: Settings, rule: tuple[int, int, int, int]) -> tuple[str | None, float]:
    """Run the rule's step as the worker does: the error it raised (None when it returned)
    and how long it took."""
    ws, rule_id, ann, transition = rule
    started = time.monotonic()
    try:
        ActivityEnvironment().run(AutomationActivities(settings).run_rule_step,
                                  RuleStepInput(ws, rule_id, ann, transition, 0))
    except ApplicationError as failed:
        return failed.message, time.monotonic() - started
    return None, time.monotonic() - started


def last_delivery(settings: Settings, ws: int) -> OutboundDelivery:
    with db.session(settings.resolved_database_url) as session:
        return outbound_store.deliveries(session, ws)[0]


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Made-up DNS: each name in the dict resolves to its next list of addresses (the last
    one again when they run out); every other name as the system resolves it."""
    table: dict[str, list[list[str]]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in table:
            return real(host, port, *args, **kwargs)
        answers = table[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port))) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def platform() -> Iterator[Receiver]:
    with Receiver(receivers.statuses()) as server:
        yield server


# --- when the URL is saved ---------------------------------------------------------------


def test_a_local_server_is_reached_only_where_the_deployment_allows_private_addresses(
        settings: Settings, guarded: Settings, local: Settings,
        rule: tuple[int, int, int, int], platform: Receiver) -> None:
    ws = rule[0]
    with pytest.raises(outbound_store.OutboundError, match="is an https URL"):
        configure(settings, ws, platform.url)
    with pytest.raises(outbound_store.OutboundError) as refused:
        configure(guarded, ws, platform.url)
    assert str(refused.value) == (
        "the webhook URL leads to a private address (REVSYNC_OUTBOUND_ALLOW_PRIVATE allows "
        "these), which is not allowed (host 127.0.0.1)")
    configure(local, ws, platform.url)
    assert send(local, rule)[0] is None
    assert len(platform.received) == 1
    assert last_delivery(local, ws).delivered


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
    "http://192.168.1.1/hook", "http://[::1]/", "http://0x7f000001/", "http://2130706433/",
    "http://0177.0.0.1/", "http://127.1/", "http://localhost:8000/", "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[fd00::1]/",
    "http://[fe80::1]/", "http://0.0.0.0/", "http://224.0.0.1/", "http://255.255.255.255/",
    "http://[2002:7f00:1::]/", "http://[64:ff9b::a9fe:a9fe]/",
])
def test_urls_into_the_deployments_network_are_refused_when_saved(
        guarded: Settings, rule: tuple[int, int, int, int], url: str) -> None:
    with pytest.raises(outbound_store.OutboundError) as refused:
        configure(guarded, rule[0], url)
    assert "not allowed" in str(refused.value)
    with db.session(guarded.resolved_database_url) as session:
        assert outbound_store.target(guarded, session, rule[0]) is None


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://[fe80::1]/", "http://224.0.0.1/", "http://0.0.0.0/"])
def test_some_addresses_are_refused_even_where_private_ones_are_allowed(
        local: Settings, rule: tuple[int, int, int, int], url: str) -> None:
    """Link-local (the cloud's metadata service), multicast, unspecified: never a
    platform's endpoint."""
    with pytest.raises(outbound_store.OutboundError, match="not allowed"):
        configure(local, rule[0], url)


def test_plain_http_is_refused_unless_allowed(settings: Settings,
                                              rule: tuple[int, int, int, int]) -> None:
    with pytest.raises(outbound_store.OutboundError, match="an https URL"):
        configure(settings, rule[0], f"http://{PUBLIC}/hook")
    configure(settings, rule[0], f"https://{PUBLIC}/hook")
    configure(settings.model_copy(update={"outbound_allow_http": True}), rule[0],
              f"http://{PUBLIC}/hook")


def test_a_name_is_refused_when_any_of_its_addresses_is(
        guarded: Settings, rule: tuple[int, int, int, int],
        names: dict[str, list[list[str]]]) -> None:
    names["hooks.mixed.test"] = [[PUBLIC, "127.0.0.1"]]
    with pytest.raises(outbound_store.OutboundError, match="not allowed"):
        configure(guarded, rule[0], "http://hooks.mixed.test/hook")


# --- when it is sent ---------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_address_allowed_when_saved_is_checked_again_when_sent(
        local: Settings, guarded: Settings, rule: tuple[int, int, int, int],
        platform: Receiver, host: str) -> None:
    """The deployment allowed private addresses when the URL was saved, and no longer
    does when it is sent: given as the address, or as a name resolving to it."""
    configure(local, rule[0], f"http://{host}:{platform.port}/hooks/revsync")
    assert send(guarded, rule)[0] == REFUSED
    assert platform.received == []
    assert last_delivery(guarded, rule[0]).error == REFUSED


def test_dns_that_answers_differently_when_sent_is_checked_again(
        guarded: Settings, rule: tuple[int, int, int, int], platform: Receiver,
        names: dict[str, list[list[str]]]) -> None:
    """DNS rebinding: public when the URL is saved, loopback when it is sent."""
    names["hooks.rebind.test"] = [[PUBLIC], ["127.0.0.1"]]
    configure(guarded, rule[0], f"http://hooks.rebind.test:{platform.port}/hooks/revsync")
    assert send(guarded, rule)[0] == REFUSED
    assert platform.received == []


def test_the_request_goes_to_the_address_that_was_checked(
        local: Settings, rule: tuple[int, int, int, int], platform: Receiver,
        names: dict[str, list[list[str]]]) -> None:
    """The name is resolved once, by the check; the connection goes to that address (the
    system resolver has never heard of the name) and the request still names the host."""
    # A second look-up would get 127.0.0.2, where nothing listens.
    names["hooks.platform.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    configure(local, rule[0], f"http://hooks.platform.test:{platform.port}/hooks/revsync")
    names["hooks.platform.test"] = [["127.0.0.1"], ["127.0.0.2"]]  # the send's turn
    assert send(local, rule)[0] is None
    [(headers, _)] = platform.received
    assert headers["Host"] == f"hooks.platform.test:{platform.port}"


# --- a receiver that misbehaves ----------------------------------------------------------


@pytest.mark.parametrize("in_headers", [True, False], ids=["headers", "body"])
def test_a_slow_drip_is_cut_at_the_deadline(local: Settings, rule: tuple[int, int, int, int],
                                            in_headers: bool) -> None:
    """One byte every 50 ms would keep a per-read timeout happy for ever."""
    quick = local.model_copy(update={"outbound_timeout_seconds": 1})
    with Receiver(receivers.drip(headers=in_headers)) as slow:
        configure(quick, rule[0], slow.url)
        error, seconds = send(quick, rule)
        assert error == "timed out"
        assert seconds < 4
        assert last_delivery(quick, rule[0]).error == "timed out"
        assert not last_delivery(quick, rule[0]).delivered


def test_a_huge_answer_is_not_read_to_its_end(local: Settings,
                                              rule: tuple[int, int, int, int]) -> None:
    total = 64 << 20
    with Receiver(receivers.huge(total)) as big:
        configure(local, rule[0], big.url)
        assert send(local, rule)[0] == "response too large"
        deadline = time.monotonic() + 5
        while big.gone is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert big.written < total  # the receiver was cut off, not read to the end
    assert not last_delivery(local, rule[0]).delivered


def test_a_redirect_is_not_followed(local: Settings, rule: tuple[int, int, int, int],
                                    platform: Receiver) -> None:
    with Receiver(receivers.redirect(platform.url)) as moved:
        configure(local, rule[0], moved.url)
        assert send(local, rule)[0] == "redirect refused (http 302)"
        assert len(moved.received) == 1
    assert platform.received == []
    delivery = last_delivery(local, rule[0])
    assert (delivery.status_code, delivery.delivered) == (302, False)


async def test_the_delivery_log_shows_no_internal_error_text(
        local: Settings, client: Client, rule: tuple[int, int, int, int]) -> None:
    """Nothing listens on the port: the log says the connection failed, not how (the
    system's words would tell a port scanner which ports are open)."""
    configure(local, rule[0], f"http://127.0.0.1:{free_port()}/hook")
    assert send(local, rule)[0] == "connection failed"
    token = "test-platform-key-0123456789"
    with_token = local.model_copy(update={"platform_key": SecretStr(token)})
    async with webhook_client(with_token, client) as http:
        response = await http.get("/api/workspaces/auto/automations/deliveries",
                                  headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [shown] = response.json()["deliveries"]
    assert shown["error"] == "connection failed"
    for internal in ("Errno", "refused", "ConnectError", "127.0.0.1"):
        assert internal not in response.text
