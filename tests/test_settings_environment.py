"""`Settings.environment`: the one mapping from settings to a child process's environment
(the end-to-end tests' worker and starter processes, bench/webhooks.py's worker and web
app). A child reading that environment has the same settings, whatever the parent's own
environment held."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from revsync.settings import Settings

CHANGED = Settings(
    data_dir=Path("/tmp/revsync-elsewhere"),
    database_url="postgresql://me@db.test/revsync",
    secret_key="k" * 44,
    task_queue="q-1",
    stripe_requests_per_second=12.5,
    stripe_budget_scope="fleet",
    stripe_task_queue_partitions=8,
    http_port=0,
    platform_key=SecretStr("an-platform-key-of-some-length"),
    smtp_starttls=True,
    team_alert_to="",
    templates_dir=Path("/tmp/templates"),
)
INHERITED = {"PATH": "/usr/bin", "DATABASE_URL": "sqlite:///parent.sqlite",
             "REVSYNC_DATABASE_URL": "sqlite:///other.sqlite", "REVSYNC_SMTP_HOST": "mx.test",
             "revsync_task_queue": "lowercase", "REVSYNC_TEST_PG": "postgresql://x/test"}


def read_back(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a child process with this environment reads (no .env file)."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_a_child_reads_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_back(CHANGED.environment(INHERITED), monkeypatch) == CHANGED


def test_a_child_of_default_settings_reads_the_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = read_back({}, monkeypatch)
    assert read_back(defaults.environment(INHERITED), monkeypatch) == defaults


def test_the_parents_settings_do_not_leak_and_the_rest_is_kept() -> None:
    environment = CHANGED.environment(INHERITED)
    assert environment["PATH"] == "/usr/bin"
    assert environment["REVSYNC_TEST_PG"] == "postgresql://x/test"  # not a setting
    assert environment["DATABASE_URL"] == "postgresql+psycopg://me@db.test/revsync"
    assert "REVSYNC_DATABASE_URL" not in environment  # would be read after DATABASE_URL
    assert "REVSYNC_SMTP_HOST" not in environment  # None here: the child's default
    assert "revsync_task_queue" not in environment
    assert environment["REVSYNC_PLATFORM_KEY"] == "an-platform-key-of-some-length"
    assert environment["REVSYNC_SMTP_STARTTLS"] == "true"
    set_fields = [name for name in Settings.model_fields if getattr(CHANGED, name) is not None]
    assert len(environment) == len(set_fields) + 2


@pytest.mark.parametrize("value", ["team@shop.example\n", "a@shop.example,b@shop.example\n",
                                   "a@shop.example;b@shop.example", "nobody"])
def test_team_alert_addresses_are_refused_unless_exact(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, team_alert_to=value)
    assert "REVSYNC_TEAM_ALERT_TO" in str(raised.value)


def test_team_alert_addresses_may_have_spaces_after_their_commas() -> None:
    both = Settings(_env_file=None, team_alert_to="a@shop.example, b@shop.example")
    assert both.team_alert_to == "a@shop.example, b@shop.example"
