"""The commands that use stored secrets, the worker and the web server refuse to start
when the key file is lost or the key is another one, saying which (exit 1); the key
file is never made again behind the stored secrets' back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fake_stripe import FakeStripeServer
from tests.helpers.cli import run
from tests.helpers.e2e import ROOT

NOWHERE = "127.0.0.1:1"  # a Temporal address nothing answers: nothing may get that far

USING_SECRETS = [
    ["connect", "--api-key-env", "STRIPE_TEST_KEY"],
    ["products"],
    ["options", "--metadata-keys", "plan"],
    ["disconnect"],
    ["webhooks", "serve", "--port", "0"],
    ["automations", "rules", "webhook", "--url", "https://hooks.example.com/r",
     "--secret-env", "STRIPE_TEST_KEY"],
]


@pytest.fixture
def key_file_env(env: dict[str, str], fake: FakeStripeServer,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace connected with the key file's key (no REVSYNC_SECRET_KEY); the key
    file's path."""
    monkeypatch.delenv("REVSYNC_SECRET_KEY")
    monkeypatch.setenv("TEMPORAL_ADDRESS", NOWHERE)
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY")
    assert code == 0, out
    key = Path(env["REVSYNC_DATA_DIR"]) / "secret.key"
    assert key.exists()
    return key


@pytest.mark.parametrize("command", USING_SECRETS, ids=lambda c: "-".join(c[:2]))
def test_a_lost_key_file_stops_each_command_that_uses_secrets(
        key_file_env: Path, command: list[str]) -> None:
    key_file_env.unlink()
    code, out = run(*command)
    assert code == 1, out
    assert (f"stored secrets exist but the key file {key_file_env} is missing: restore it or "
            "set REVSYNC_SECRET_KEY") in out
    assert not key_file_env.exists()
    assert run("status")[0] == 0  # commands without secrets still run


@pytest.mark.parametrize("command", USING_SECRETS, ids=lambda c: "-".join(c[:2]))
def test_another_key_stops_each_command_that_uses_secrets(
        key_file_env: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("REVSYNC_SECRET_KEY", Fernet.generate_key().decode())
    code, out = run(*command)
    assert code == 1, out
    assert "REVSYNC_SECRET_KEY does not decrypt the stored secrets (wrong key?)" in out


def test_the_worker_refuses_to_start_without_its_key(key_file_env: Path) -> None:
    key_file_env.unlink()
    done = subprocess.run([sys.executable, str(ROOT / "worker.py")], env={
        **os.environ, "COLUMNS": "300"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stored secrets exist but the key file" in done.stdout
    assert not key_file_env.exists()
