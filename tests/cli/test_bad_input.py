"""Bad input from the command line: one clear line and exit 2 (the input is wrong) or 1
(the environment is), never a traceback, and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from fake_stripe import FakeStripeServer
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from tests.helpers.cli import run


def workspaces_stored(env: dict[str, str]) -> list[str]:
    with db.session(env["DATABASE_URL"]) as session:
        return list(session.exec(select(Workspace.name)).all())


def no_traceback(out: str) -> None:
    assert "Traceback" not in out and "Error:" not in out.replace("error:", ""), out


@pytest.mark.parametrize("rate", ["1e999", "1e7", "0", "-1", "Infinity", "NaN", "1e-13"])
def test_connect_refuses_an_fx_rate_out_of_range(env: dict[str, str], fake: FakeStripeServer,
                                                rate: str) -> None:
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--fx-rates", f"eur={rate}")
    assert code == 2, out
    assert "FX rate for 'eur'" in out
    no_traceback(out)
    assert workspaces_stored(env) == []


def test_connect_refuses_products_the_account_does_not_have(env: dict[str, str],
                                                           fake: FakeStripeServer) -> None:
    fake.state.put("product", {"id": "prod_real", "name": "Real"})
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--products", "prod_doesnotexist1,prod_real,prod_nope2")
    assert code == 2, out
    assert "unknown product ids: prod_doesnotexist1, prod_nope2" in out
    assert workspaces_stored(env) == []
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--products", "prod_real")
    assert code == 0, out


def test_connect_while_stripe_is_unreachable_says_so(env: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_STRIPE_API_BASE", "http://127.0.0.1:9")
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY")
    assert code == 1, out  # the environment, not the input
    assert "could not reach Stripe" in out
    assert workspaces_stored(env) == []


def test_import_refuses_a_workspace_name_that_is_a_path(env: dict[str, str],
                                                       tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@x.io\n")
    code, out = run("subscribers", "import", str(people), "--workspace", "../etc")
    assert code == 2, out
    assert "workspace names are" in out and "'../etc'" in out
    no_traceback(out)
    assert workspaces_stored(env) == []


def test_export_to_a_place_that_cannot_be_written_says_so(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@x.io\n")
    assert run("subscribers", "import", str(people))[0] == 0
    code, out = run("export", "--output", "/proc/nope/o.jsonl")
    assert code == 2, out
    assert "cannot write /proc/nope/o.jsonl" in out
    no_traceback(out)


@pytest.mark.parametrize("url, message", [
    ("sqlite-foo://x", "DATABASE_URL must be sqlite:///PATH or postgresql://"),
    ("sqlite://", "in-memory SQLite keeps nothing"),
    ("sqlite:///:memory:", "in-memory SQLite keeps nothing"),
    ("postgresql+asyncpg://u@h/d", "DATABASE_URL must be sqlite:///PATH or postgresql://"),
])
def test_a_database_url_that_cannot_work_is_refused(env: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    url: str, message: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    code, out = run("status")
    assert code == 2, out
    assert message in out
    no_traceback(out)


@pytest.mark.parametrize("url, message", [
    ("postgresql://postgres@127.0.0.1:9/test", "cannot reach the database"),
    ("postgresql://postgres@127.0.0.1:5432/revsync_no_such_db", "does not exist"),
    ("sqlite:////proc/nope/revsync.sqlite", "cannot open the database"),
])
def test_a_database_that_is_down_or_missing_is_an_environment_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    code, out = run("status")
    assert code == 1, out
    assert message in out
    no_traceback(out)


def test_an_import_into_memory_is_refused_before_it_loses_anything(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("".join(f"p{n}@x.io\n" for n in range(10)).join(["email\n", ""]))
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    code, out = run("subscribers", "import", str(people))
    assert code == 2 and "created" not in out, out
    monkeypatch.setenv("DATABASE_URL", env["DATABASE_URL"])
    db.migrate(env["DATABASE_URL"])
    with db.session(env["DATABASE_URL"]) as session:
        assert session.exec(select(Subscriber)).all() == []


def test_a_very_long_segment_name_is_refused_without_repeating_it(env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\nann@x.io\n")
    assert run("subscribers", "import", str(people))[0] == 0
    code, out = run("segments", "create", "x" * 10_000, "ltv > 5")
    assert code == 2, out
    assert len(out) < 400 and "10000 characters" in out, out


@pytest.mark.parametrize("command", [["products"], ["suggest-metadata"]])
def test_another_deployments_secret_key_is_an_environment_error(
    env: dict[str, str], fake: FakeStripeServer, monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY")
    assert code == 0, out
    monkeypatch.setenv("REVSYNC_SECRET_KEY", Fernet.generate_key().decode())
    code, out = run(*command)
    assert code == 1, out
    assert "REVSYNC_SECRET_KEY does not decrypt the stored secrets (wrong key?)" in out


def test_stripe_down_while_listing_products_says_so(
    env: dict[str, str], fake: FakeStripeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY")
    assert code == 0, out
    monkeypatch.setenv("REVSYNC_STRIPE_MAX_RETRIES", "1")  # give up after one retry
    fake.state.faults.set(server_error_every=1)
    code, out = run("products")
    assert code == 1, out
    assert "could not reach Stripe" in out and "500" in out


def test_the_worker_with_its_database_down_says_so(env: dict[str, str]) -> None:
    import os
    import subprocess
    import sys

    from tests.helpers.e2e import ROOT

    result = subprocess.run(
        [sys.executable, str(ROOT / "worker.py")], cwd=env["REVSYNC_DATA_DIR"].rsplit("/", 1)[0],
        env={**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test",
             "COLUMNS": "200"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot reach the database at 127.0.0.1:9" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
