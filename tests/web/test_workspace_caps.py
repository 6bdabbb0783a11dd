"""A workspace holds at most the deployment's number of segments and of rules: one more
is refused (409, with the cap named) over the API, the command line and the settings
page, and nothing is stored; other workspaces and deletions are unaffected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import select
from temporalio.client import Client

from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.store.models import AutomationRule, Segment
from tests.helpers.cli import run
from tests.helpers.pages import csrf_of, page_client
from tests.helpers.webhooks import webhook_client

TOKEN = "test-platform-key-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAPPED = {"max_segments_per_workspace": 2, "max_rules_per_workspace": 2}


def rule(name: str) -> dict[str, Any]:
    return {"name": name, "trigger": {"kind": "payment"},
            "action": {"kind": "email", "template": "thank_you"}}


def held(settings: Settings, table: Any, workspace: str) -> int:
    with db.session(settings.resolved_database_url) as session:
        found = workspaces.by_name(session, workspace)
        return session.exec(select(func.count()).select_from(table)
                            .where(table.workspace_id == found.id)).one()


@pytest.fixture
def capped(settings: Settings) -> Settings:
    with db.session(settings.resolved_database_url) as session:
        workspaces.get_or_create(session, "shop")
        workspaces.get_or_create(session, "elsewhere")
    return settings.model_copy(update={**CAPPED, "platform_key": SecretStr(TOKEN)})


async def test_the_api_refuses_one_more(capped: Settings, client: Client) -> None:
    async with webhook_client(capped, client) as http:
        for kind, path, body in (
                ("segments", "/segments", lambda n: {"name": n, "expression": "mrr > 1"}),
                ("rules", "/automations/rules", rule)):
            base = f"/api/workspaces/shop{path}"
            made = [await http.post(base, headers=AUTH, json=body(f"{kind} {i}"))
                    for i in range(2)]
            assert [m.status_code for m in made] == [201, 201]
            refused = await http.post(base, headers=AUTH, json=body(f"{kind} 3"))
            assert refused.status_code == 409, refused.text
            message = refused.json()["error"]["message"]
            assert f"the most a workspace may have (2, REVSYNC_MAX_{kind.upper()}_PER" in (
                message)
            other = await http.post(f"/api/workspaces/elsewhere{path}", headers=AUTH,
                                    json=body(f"{kind} 3"))
            assert other.status_code == 201
            gone = await http.delete(f"{base}/{made[0].json()['id']}", headers=AUTH)
            assert gone.status_code == 204
            again = await http.post(base, headers=AUTH, json=body(f"{kind} 3"))
            assert again.status_code == 201
    assert held(capped, Segment, "shop") == held(capped, AutomationRule, "shop") == 2


async def test_the_settings_page_refuses_one_more_rule(capped: Settings,
                                                       client: Client) -> None:
    async with page_client(capped, client, TOKEN) as browser:
        csrf = csrf_of((await browser.get("/settings/shop")).text)
        await browser.post("/settings/shop/login", data={"token": TOKEN, "csrf": csrf})
        csrf = csrf_of((await browser.get("/settings/shop")).text)
        for i in range(3):
            await browser.post("/settings/shop/rules-add", data={
                "name": f"r{i}", "trigger_kind": "payment", "action_kind": "email",
                "template": "thank_you", "csrf": csrf})
        page = (await browser.get("/settings/shop")).text
    assert "the most a workspace may have (2, REVSYNC_MAX_RULES_PER_WORKSPACE)" in page
    assert held(capped, AutomationRule, "shop") == 2


def test_the_command_line_refuses_one_more(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    for name, value in {"DATABASE_URL": url, "REVSYNC_DATA_DIR": str(tmp_path / "data"),
                        "REVSYNC_SECRET_KEY": Fernet.generate_key().decode(),
                        "REVSYNC_MAX_SEGMENTS_PER_WORKSPACE": "1",
                        "REVSYNC_MAX_RULES_PER_WORKSPACE": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    db.migrate(url)
    with db.session(url) as session:
        workspaces.get_or_create(session, "shop")
    assert run("segments", "create", "one", "mrr > 1", "-w", "shop")[0] == 0
    code, out = run("segments", "create", "two", "mrr > 2", "-w", "shop")
    assert code == 2 and "the most a workspace may have (1, " in out
    for name in ("one", "two"):
        (tmp_path / f"{name}.json").write_text(json.dumps(rule(name)))
    assert run("automations", "rules", "add", str(tmp_path / "one.json"), "-w", "shop")[0] == 0
    code, out = run("automations", "rules", "add", str(tmp_path / "two.json"), "-w", "shop")
    assert code == 2 and "the most a workspace may have (1, " in out
