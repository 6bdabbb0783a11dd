"""`automations rules ...`: the lifecycle of a rule from JSON files, and every bad input
refused with exit 2 and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from revsync.automations import rule_store
from revsync.store import db
from tests.helpers.cli import run

RULE = {"name": "recovered", "trigger": {"kind": "recovered"},
        "action": {"kind": "notify_team", "template": "team_alert"}}


def rules(env: dict[str, str], workspace_id: int) -> list[dict[str, Any]]:
    with db.session(env["DATABASE_URL"]) as session:
        return [rule_store.shown(r) for r in rule_store.list_rules(session, workspace_id)]


def written(tmp_path: Path, doc: Any, name: str = "rule.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_add_list_show_replace_off_on_delete(bare_shop: int, env: dict[str, str],
                                             tmp_path: Path) -> None:
    code, out = run("automations", "rules", "add", written(tmp_path, RULE), "-w", "shop")
    assert code == 0, out
    [rule] = rules(env, bare_shop)
    assert '"kind": "recovered"' in out and rule["name"] == "recovered"
    code, out = run("automations", "rules", "list", "-w", "shop")
    assert code == 0 and f"│ {rule['id']} │ yes │ recovered │ recovered │ │ notify_team │" in out
    code, out = run("automations", "rules", "show", str(rule["id"]), "-w", "shop")
    assert code == 0 and '"template": "team_alert"' in out
    changed = {**RULE, "condition": "mrr >= 100"}
    code, out = run("automations", "rules", "replace", str(rule["id"]),
                    written(tmp_path, changed, "new.json"), "-w", "shop")
    assert code == 0 and rules(env, bare_shop)[0]["condition"] == "mrr >= 100"
    assert run("automations", "rules", "off", str(rule["id"]), "-w", "shop")[0] == 0
    assert rules(env, bare_shop)[0]["enabled"] is False
    assert run("automations", "rules", "on", str(rule["id"]), "-w", "shop")[0] == 0
    assert rules(env, bare_shop)[0]["enabled"] is True
    code, out = run("automations", "rules", "delete", str(rule["id"]), "-w", "shop")
    assert code == 0 and f"rule {rule['id']} deleted" in out and rules(env, bare_shop) == []


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not JSON"),
    (json.dumps({**RULE, "trigger": {"kind": "soon"}}), "trigger kind 'soon' is not one of"),
    (json.dumps({**RULE, "action": {"kind": "email", "template": "nothing_here"}}),
     "no email template nothing_here"),
    (json.dumps({**RULE, "condition": "plan ="}), "condition: position"),
])
def test_bad_documents_are_refused(bare_shop: int, env: dict[str, str], tmp_path: Path,
                                   content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out = run("automations", "rules", "add", str(path), "-w", "shop")
    assert code == 2 and message in out
    assert rules(env, bare_shop) == []


@pytest.mark.parametrize("args, message", [
    (["add", "/nonexistent/rule.json"], "cannot read /nonexistent/rule.json"),
    (["show", "41"], "no rule with id 41 in this workspace"),
    (["off", "0"], "Invalid value"),
    (["delete", "x"], "Invalid value"),
])
def test_bad_arguments(bare_shop: int, args: list[str], message: str) -> None:
    code, out = run("automations", "rules", *args, "-w", "shop")
    assert code == 2 and message in out


def test_a_name_used_twice_is_refused(bare_shop: int, env: dict[str, str], tmp_path: Path) -> None:
    assert run("automations", "rules", "add", written(tmp_path, RULE), "-w", "shop")[0] == 0
    code, out = run("automations", "rules", "add", written(tmp_path, RULE), "-w", "shop")
    assert code == 2 and "a rule named 'recovered' exists in this workspace" in out
    assert len(rules(env, bare_shop)) == 1


def test_the_webhook_target_from_the_command_line(bare_shop: int, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    assert run("automations", "rules", "webhook", "-w", "shop") == (
        0, "no rule webhooks are sent")
    monkeypatch.setenv("HOOK_SECRET", "whsec_platform_0123456789")
    code, out = run("automations", "rules", "webhook", "--url", "https://hooks.example.com/r",
                    "--secret-env", "HOOK_SECRET", "-w", "shop")
    assert (code, out) == (0, "rule webhooks go to https://hooks.example.com/r")
    assert run("automations", "rules", "webhook", "--off", "-w", "shop") == (
        0, "no rule webhooks are sent")
    code, out = run("automations", "rules", "deliveries", "-w", "shop")
    assert code == 0 and "attempt" in out


@pytest.mark.parametrize("args, message", [
    (["--url", "https://h.example.com"], "--url needs --secret-env naming a set environment"),
    (["--url", "https://h.example.com", "--secret-env", "UNSET_VARIABLE_X"], "--secret-env"),
    (["--url", "ftp://h.example.com", "--secret-env", "HOOK_SECRET"], "an https URL"),
    (["--url", "https://localhost/hook", "--secret-env", "HOOK_SECRET"], "private address"),
    (["--url", "https://h.example.com", "--off"], "give --url or --off, not both"),
])
def test_bad_webhook_arguments(bare_shop: int, monkeypatch: pytest.MonkeyPatch, args: list[str],
                               message: str) -> None:
    monkeypatch.setenv("HOOK_SECRET", "whsec_platform_0123456789")
    code, out = run("automations", "rules", "webhook", *args, "-w", "shop")
    assert code == 2 and message in out
    assert run("automations", "rules", "webhook", "-w", "shop")[1] == "no rule webhooks are sent"

