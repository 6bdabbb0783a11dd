"""Shared fake Stripe servers for these tests (real HTTP, the real stripe SDK)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from revsync.fake_stripe import Account, FakeStripe, FakeStripeServer, generate_account

API_KEY = "sk_test_fake"
SEED = 11
CUSTOMERS = 300


def make_client(base_url: str, *, key: str = API_KEY, retries: int = 0) -> stripe.StripeClient:
    """The SDK pointed at a fake server, as the product configures it."""
    return stripe.StripeClient(
        key,
        base_addresses={"api": base_url},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=retries,
    )


@pytest.fixture(scope="session")
def account() -> Account:
    """One generated account shared by read-only tests."""
    return generate_account(CUSTOMERS, SEED)


@pytest.fixture(scope="session")
def seeded_server(account: Account) -> Iterator[FakeStripeServer]:
    """A server over ``account``; tests using it must not mutate it."""
    state = FakeStripe(api_keys=[API_KEY])
    state.load(account)
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture(scope="session")
def client(seeded_server: FakeStripeServer) -> stripe.StripeClient:
    """SDK client for the shared seeded server."""
    return make_client(seeded_server.base_url)


@pytest.fixture
def fresh_server() -> Iterator[FakeStripeServer]:
    """A small seeded server of its own, for tests that mutate or inject faults."""
    state = FakeStripe.seeded(customers=40, seed=5, api_keys=[API_KEY])
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture
def fresh_client(fresh_server: FakeStripeServer) -> stripe.StripeClient:
    """SDK client for ``fresh_server``."""
    return make_client(fresh_server.base_url)
