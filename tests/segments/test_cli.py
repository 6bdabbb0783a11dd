"""`starter.py segments ...` and `starter.py email-events import`, on both databases:
bad input exits 2 with a clear message and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from fake_stripe import FakeStripeServer
from revsync.store import db
from revsync.store.models import EmailEvent, Segment
from tests.helpers.cli import run
from tests.helpers.e2e import KEY
from tests.segments import dataset


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {"DATABASE_URL": database_url,
                        "REVSYNC_DATA_DIR": str(tmp_path / "data"),
                        "REVSYNC_SECRET_KEY": Fernet.generate_key().decode(),
                        "STRIPE_TEST_KEY": KEY, "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    dataset.load(database_url)
    return database_url


def segments(url: str) -> list[tuple[str, str]]:
    with db.session(url) as session:
        return sorted((s.name, s.expression) for s in session.exec(select(Segment)))


def test_every_command_has_help(env: str) -> None:
    for command in (["segments", "list"], ["segments", "create"], ["segments", "edit"],
                    ["segments", "delete"], ["segments", "count"], ["segments", "members"],
                    ["segments", "check"], ["email-events", "import"]):
        code, out = run(*command, "--help")
        assert code == 0 and "Usage" in out, command


def test_segment_lifecycle(env: str) -> None:
    w = ("--workspace", "shop")
    assert run("segments", "create", "Big", "ltv > 1000", *w) == (0, "created segment 1")
    code, out = run("segments", "list", *w)
    assert code == 0 and "Big" in out and "ltv > 1000" in out
    assert run("segments", "count", "Big", *w) == (0, "3")
    code, out = run("segments", "members", "Big", "--limit", "2", *w)
    assert code == 0 and "a@x.test" in out and "f@x.test" in out and "i@x.test" not in out
    assert "1500.00" in out and "customer, saas.monthly" in out
    after = out.split("next page: --after ")[1].strip()
    code, out = run("segments", "members", "Big", "--after", after, *w)
    assert code == 0 and "i@x.test" in out and "a@x.test" not in out
    assert "next page" not in out
    assert run("segments", "edit", "Big", "--name", "Whales", "--expression", "ltv > 2000",
               *w) == (0, "updated segment 1")
    assert run("segments", "count", "Whales", *w) == (0, "1")
    assert run("segments", "delete", "Whales", *w) == (0, "deleted segment 1")
    assert segments(env) == []


def test_check(env: str) -> None:
    assert run("segments", "check", "mrr>=50 and NOT tag=churned") == (
        0, "ok: (mrr >= 50) AND (NOT (tag = churned))")
    code, out = run("segments", "check", "mrr >= 50 AND tag [x]")
    assert code == 2
    assert out == ("error: position 19: expected a comparison operator (= != > >= < <=) "
                   "after 'tag', found '[' mrr >= 50 AND tag [x] ^")


@pytest.mark.parametrize("args, message", [
    (["create", "X", "mrr >="], "position 7: expected a value after '>=' (number, quoted "
                                "string or word), found end of input"),
    (["create", "X", "tag > x"], "tag takes = (has the tag) or != (does not have it)"),
    (["create", "Low", "mrr < 1"], "a segment named 'Low' already exists"),
    (["create", " ", "mrr < 1"], "segment names are 1-200 characters"),
    (["create", "X", "mrr < 1", "--workspace", "nowhere"], "no workspace named 'nowhere'"),
    (["edit", "Low"], "nothing to change"),
    (["edit", "Low", "--expression", "mrr <"], "position 6: expected a value"),
    (["edit", "Low", "--name", "High"], "a segment named 'High' already exists"),
    (["edit", "Nope", "--name", "X"], "no segment named 'Nope' in this workspace"),
    (["delete", "Nope"], "no segment named 'Nope' in this workspace"),
    (["delete", "Theirs"], "no segment named 'Theirs' in this workspace"),
    (["count", "Nope"], "no segment named 'Nope'"),
    (["members", "Low", "--limit", "501"], "Input should be less than or equal to 500"),
    (["members", "Low", "--after", "-1"], "Input should be greater than or equal to 0"),
    (["list", "--workspace", "nowhere"], "no workspace named 'nowhere'"),
])
def test_bad_input_exits_2_and_changes_nothing(env: str, args: list[str], message: str) -> None:
    for name, expression, workspace in (("Low", "mrr < 50", "shop"),
                                        ("High", "mrr > 50", "shop"),
                                        ("Theirs", "mrr > 1", "elsewhere")):
        assert run("segments", "create", name, expression, "--workspace", workspace)[0] == 0
    before = segments(env)
    if "--workspace" not in args:
        args = [*args, "--workspace", "shop"]
    code, out = run("segments", *args)
    assert code == 2 and message in out, out
    assert segments(env) == before


def test_connect_creates_the_defaults(env: str, fake: FakeStripeServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_STRIPE_API_BASE", fake.base_url)
    assert run("connect", "--api-key-env", "STRIPE_TEST_KEY",
               "--workspace", "shop")[0] == 0
    code, out = run("segments", "list", "--workspace", "shop")
    assert code == 0
    for name in ("Customers (Low MRR)", "High Spenders", "Churned High Spenders"):
        assert name in out
    assert run("segments", "count", "Customers (Low MRR)", "--workspace", "shop") == (0, "1")


def test_email_events_import(env: str, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("email,kind,occurred_at\na@x.test,open,2026-06-01T00:00:00Z\n"
                    "zed@x.test,click,2026-06-01T00:00:00Z\n")
    assert run("email-events", "import", str(path), "--workspace", "shop") == (
        0, "imported 1, skipped 1 with unknown emails, 0 duplicates")
    path.write_text("email,kind,occurred_at\nb@x.test,open,2026-06-01T00:00:00Z\n"
                    "a@x.test,bounce,2026-06-01\nb@x.test,open,soon\n")
    code, out = run("email-events", "import", str(path), "--workspace", "shop")
    assert code == 2
    assert out == ("line 3: kind must be open or click, not 'bounce' line 4: occurred_at is "
                   "not an ISO 8601 time: 'soon' error: 2 malformed row(s); nothing imported")
    code, out = run("email-events", "import", str(path), "--workspace", "nowhere")
    assert code == 2 and "no workspace named 'nowhere'" in out
    code, out = run("email-events", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "No such file" in out
    with db.session(env) as session:
        before = len(dataset.PEOPLE[0].events) + sum(len(p.events) for p in dataset.PEOPLE[1:])
        assert len(session.exec(select(EmailEvent)).all()) == before + len(dataset.OTHER.events) + 1
