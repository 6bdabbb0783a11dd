"""The starter CLI: every command's bad input gets a clear error and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from fake_stripe import FakeStripeServer
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from tests.helpers.cli import run
from tests.helpers.e2e import KEY


def subscribers(env: dict[str, str]) -> dict[str, dict[str, str]]:
    with db.session(env["DATABASE_URL"]) as session:
        return {s.email_norm: s.attributes for s in session.exec(select(Subscriber))}


def test_every_command_has_help(env: dict[str, str]) -> None:
    for command in (["subscribers", "import"], ["connect"], ["sync"], ["status"], ["export"],
                    ["demo"], ["catch-up"], ["webhooks", "serve"]):
        code, out = run(*command, "--help")
        assert code == 0 and "Usage" in out, command


def test_import_creates_and_updates_and_reports_bad_rows(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text("Email,first_name\nJane@Example.com,Jane\nnot-an-email,X\n"
                        ",Empty\njohn@example.com,John\n")
    code, out = run("subscribers", "import", str(csv_file))
    assert code == 0 and "created 2, updated 0, rejected 2" in out
    assert "line 3" in out and "line 4" in out
    csv_file.write_text("email,first_name\n  JANE@example.com ,Janet\n")
    code, out = run("subscribers", "import", str(csv_file))
    assert code == 0 and "created 0, updated 1" in out
    assert subscribers(env) == {"jane@example.com": {"first_name": "Janet"},
                                "john@example.com": {"first_name": "John"}}


@pytest.mark.parametrize("content, message", [
    (None, "No such file"),
    ("name,phone\na,b\n", "no `email` column"),
    (b"\xff\xfe\x00garbage", "codec"),
    ("", "no `email` column"),
])
def test_import_rejects_unusable_files(env: dict[str, str], tmp_path: Path,
                                       content: str | bytes | None, message: str) -> None:
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out = run("subscribers", "import", str(path))
    assert code == 2 and message in out
    assert subscribers(env) == {}


@pytest.mark.parametrize("args, message", [
    (["--api-key-env", "UNSET_VARIABLE"], "is empty or not set"),
    (["--api-key-env", "BAD_KEY"], "not a Stripe secret"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--products", "prod_ok,shoes"],
     "not Stripe product ids: shoes"),
    (["--api-key-env", "WRONG_KEY"], "Stripe rejected the key"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--fx-rates", "eur=abc"],
     "FX rate for 'eur' must be a number from 0.000000001 to 1,000,000, not 'abc'"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--fx-rates", "eur"], "FX rate for 'eur' must be"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--fx-rates", "eur=-1"], "not '-1'"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--fx-rates", "euro=1"], "FX rates are CUR=number"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--reporting-currency", "dollars"],
     "not an ISO currency code"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--products", "prod_a", "--watch-products",
      "prod_b"], "not synced: prod_b"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--webhook-secret-env", "UNSET_VARIABLE"],
     "UNSET_VARIABLE is empty or not set"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--webhook-secret-env", "STRIPE_TEST_KEY"],
     "start with whsec_"),
    (["--api-key-env", "STRIPE_TEST_KEY", "--webhook-url", "hooks.example.com"],
     "not an http(s) URL"),
])
def test_connect_rejects_bad_input_and_stores_nothing(
    env: dict[str, str], fake: FakeStripeServer, monkeypatch: pytest.MonkeyPatch,
    args: list[str], message: str,
) -> None:
    monkeypatch.setenv("BAD_KEY", "pk_live_publishable")
    monkeypatch.setenv("WRONG_KEY", "sk_test_not_accepted")
    code, out = run("connect", *args)
    assert code == 2 and message in out
    with db.session(env["DATABASE_URL"]) as session:
        assert session.exec(select(Workspace)).all() == []



def test_connect_takes_no_api_base(env: dict[str, str], fake: FakeStripeServer) -> None:
    """Where Stripe is, is the deployment's REVSYNC_STRIPE_API_BASE, never a command's."""
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--api-base", "http://127.0.0.1:9")
    assert code == 2 and "No such option: --api-base" in out
    assert fake.state.log.count() == 0

def test_connect_stores_the_key_encrypted_with_options(env: dict[str, str],
                                                        fake: FakeStripeServer) -> None:
    for product in ("prod_a", "prod_b"):
        fake.state.put("product", {"id": product, "name": product})
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY",
                    "--products", "prod_b,prod_a", "--metadata-keys", "plan,company",
                    "--sync-without-payment", "--workspace", "shop",
                    "--fx-rates", "EUR=1.08, jpy=0.0066")
    assert code == 0, out
    with db.session(env["DATABASE_URL"]) as session:
        ws = session.exec(select(Workspace)).one()
    assert ws.stripe_key_encrypted and KEY not in ws.stripe_key_encrypted
    assert (ws.products, ws.metadata_keys, ws.sync_without_payment) == (
        ["prod_a", "prod_b"], ["plan", "company"], True)
    assert ws.fx_rates == {"eur": "1.08", "jpy": "0.0066"}
    # One cheap call checked the key, one listed the products to check the ids, one read
    # the key's account (whose rate budget the workspace shares).
    assert fake.state.log.counts() == {"GET /v1/customers": 1, "GET /v1/products": 1,
                                       "GET /v1/account": 1}


@pytest.mark.parametrize("name, value, message", [
    ("DATABASE_URL", "mysql://root@localhost/x",
     "must be sqlite:///PATH or postgresql://USER@HOST/DATABASE, not mysql://"),
    ("REVSYNC_STRIPE_REQUESTS_PER_SECOND", "fast", "valid number"),
    ("REVSYNC_STRIPE_REQUESTS_PER_SECOND", "500", "less than or equal to 100"),
    ("REVSYNC_PAGES_PER_ACTIVITY", "0", "greater than or equal to 1"),
    ("REVSYNC_STRIPE_TASK_QUEUE_PARTITIONS", "0", "greater than or equal to 1"),
    ("REVSYNC_STRIPE_TASK_QUEUE_PARTITIONS", "four", "valid integer"),
])
def test_bad_settings_are_reported_not_raised(env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    code, out = run("status")
    assert code == 2 and "invalid settings" in out and message in out


def test_bad_secret_key_is_reported(env: dict[str, str], fake: FakeStripeServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_SECRET_KEY", "not-a-fernet-key")
    code, out = run("connect", "--api-key-env", "STRIPE_TEST_KEY")
    assert code == 2 and "not a Fernet key" in out


def test_export_and_status_errors(env: dict[str, str]) -> None:
    assert run("export", "--format", "xml")[0] == 2
    code, out = run("export", "--workspace", "nope")
    assert code == 2 and "no workspace named 'nope'" in out
    code, out = run("status", "--workspace", "nope")
    assert code == 2 and "no workspace named 'nope'" in out
    assert run("status", "--limit", "0")[0] == 2
    assert run("sync", "--workspace", "nope")[0] == 2


def test_sync_of_a_workspace_without_stripe_says_so(env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("email\na@example.com\n")
    run("subscribers", "import", str(csv_file), "--workspace", "fresh")
    code, out = run("sync", "--workspace", "fresh")
    assert code == 2 and "not connected to Stripe; run `connect`" in out


def test_import_looks_up_existing_subscribers_in_chunks(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("revsync.subscribers.csv_import.CHUNK", 2)
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("email,n\n" + "".join(f"u{i}@example.com,1\n" for i in range(5)))
    run("subscribers", "import", str(csv_file))
    csv_file.write_text("email,n\n" + "".join(f"U{i}@example.com,2\n" for i in range(5)))
    code, out = run("subscribers", "import", str(csv_file))
    assert code == 0 and "created 0, updated 5" in out
    assert {a["n"] for a in subscribers(env).values()} == {"2"}


def test_export_writes_jsonl_and_csv(env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("email\na@example.com\n")
    run("subscribers", "import", str(csv_file))
    assert run("export", "--output", str(tmp_path / "out.jsonl"))[0] == 0
    line = json.loads((tmp_path / "out.jsonl").read_text())
    assert line == {"email": "a@example.com", "mrr": None, "ltv": None, "tags": [],
                    "metadata": {}}
    assert run("export", "--format", "csv", "--output", str(tmp_path / "out.csv"))[0] == 0
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "email,mrr,ltv,tags,metadata", "a@example.com,,,,{}"]


@pytest.mark.parametrize("args, code, message", [
    (["--workspace", "nobody"], 2, "no workspace named 'nobody'"),
    (["--workspace", "shop", "--since", "yesterday"], 2, "unix seconds or ISO 8601"),
    (["--workspace", "shop", "--since", "2020-01-01"], 1, "30 days"),
    (["--workspace", "shop"], 1, "no completed full sync"),
])
def test_catch_up_refuses_what_it_cannot_cover(
    env: dict[str, str], fake: FakeStripeServer, args: list[str], code: int, message: str
) -> None:
    assert run("connect", "--api-key-env", "STRIPE_TEST_KEY",
               "--workspace", "shop")[0] == 0
    exit_code, out = run("catch-up", *args)
    assert exit_code == code and message in out


def test_webhooks_serve_rejects_a_bad_port(env: dict[str, str]) -> None:
    code, out = run("webhooks", "serve", "--port", "70000")
    assert code == 2 and "less than or equal to 65535" in out
