"""Shared fake Stripe servers for these tests (real HTTP, the real stripe SDK)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from fake_stripe import Account, FakeStripe, FakeStripeServer, generate_account
from fake_stripe.testing import stripe_client

SEED = 11
CUSTOMERS = 300


@pytest.fixture(scope="session")
def account() -> Account:
    """One generated account shared by read-only tests."""
    return generate_account(CUSTOMERS, SEED)


@pytest.fixture(scope="session")
def seeded_server(account: Account) -> Iterator[FakeStripeServer]:
    """A server over ``account``; tests using it must not mutate it."""
    state = FakeStripe()
    state.load(account)
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture(scope="session")
def client(seeded_server: FakeStripeServer) -> stripe.StripeClient:
    """SDK client for the shared seeded server."""
    return stripe_client(seeded_server)


@pytest.fixture
def fresh_server() -> Iterator[FakeStripeServer]:
    """A small seeded server of its own, for tests that mutate or inject faults."""
    state = FakeStripe.seeded(customers=40, seed=5)
    with FakeStripeServer(state) as server:
        yield server


@pytest.fixture
def fresh_client(fresh_server: FakeStripeServer) -> stripe.StripeClient:
    """SDK client for ``fresh_server``."""
    return stripe_client(fresh_server)
