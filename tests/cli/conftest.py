"""Fixtures of the CLI tests: a settings environment in a temporary folder, a fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fake_stripe import FakeStripe, FakeStripeServer
from revsync.store import db, workspaces
from tests.helpers.e2e import KEY


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
        "REVSYNC_DATA_DIR": str(tmp_path / "data"),
        "REVSYNC_SECRET_KEY": Fernet.generate_key().decode(),
        "STRIPE_TEST_KEY": KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return values


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripeServer]:
    """The fake Stripe, as the deployment's Stripe of every command."""
    with FakeStripeServer(FakeStripe(api_keys=[KEY])) as server:
        monkeypatch.setenv("REVSYNC_STRIPE_API_BASE", server.base_url)
        yield server


@pytest.fixture
def bare_shop(env: dict[str, str]) -> int:
    """A workspace "shop" with no Stripe connection: its id."""
    db.migrate(env["DATABASE_URL"])
    with db.session(env["DATABASE_URL"]) as session:
        workspace = workspaces.get_or_create(session, "shop")
    assert workspace.id is not None
    return workspace.id
