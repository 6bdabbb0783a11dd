"""The default rules stored: created once per workspace, a name the user took skipped,
`automations set` edits keep the rest of an edited rule; both databases."""

from __future__ import annotations

import pytest

from revsync.automations import defaults, rule_store
from revsync.automations.types import TEAM_ALERT, WIN_BACK
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Workspace


def workspace(settings: Settings, name: str = "d") -> int:
    with db.session(settings.resolved_database_url) as session:
        row = Workspace(name=name)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def test_created_once_and_a_taken_name_is_skipped(settings: Settings) -> None:
    url = settings.resolved_database_url
    ws = workspace(settings)
    with db.session(url) as session:
        rule_store.create(settings, session, ws, {
            "name": "Thank-you email", "trigger": {"kind": "payment"},
            "action": {"kind": "email", "template": "thank_you"}})
    assert defaults.ensure_default_rules(url, "d") == 2
    assert defaults.ensure_default_rules(url, "d") == 0
    with db.session(url) as session:
        assert [(r.name, r.default_key) for r in rule_store.list_rules(session, ws)] == [
            ("Thank-you email", None), ("Win-back sequence", WIN_BACK),
            ("Team alert on a failed payment", TEAM_ALERT)]
        with pytest.raises(rule_store.RuleNotFound, match="no thank_you rule"):
            defaults.tune(settings, session, ws, "thank_you", threshold="5")


def test_tuning_keeps_what_the_user_changed(settings: Settings) -> None:
    url = settings.resolved_database_url
    ws = workspace(settings)
    defaults.ensure_default_rules(url, "d")
    with db.session(url) as session:
        row = defaults.default_rule(session, ws, WIN_BACK)
        assert row.id is not None
        edited = {**rule_store.shown(row), "condition": "ltv > 500"}
        edited["action"]["steps"][1]["to"] = "team"
        edited["action"]["steps"][1]["template"] = "team_alert"
        del edited["id"]
        rule_store.replace(settings, session, ws, row.id, edited)
        tuned = defaults.tune(settings, session, ws, WIN_BACK, delays_days=[1, 2, 4])
        assert tuned.definition["condition"] == "ltv > 500"
        assert [(s["template"], s["to"], s["after_days"])
                for s in tuned.definition["action"]["steps"]] == [
            ("win_back_1", "subscriber", 0), ("team_alert", "team", 1),
            ("win_back_3", "subscriber", 2), ("win_back_3", "subscriber", 4)]
        assert defaults.summary(tuned) == {"delays_days": [1, 2, 4], "condition": "ltv > 500"}
        # A rule rewritten into another shape says so instead of guessing.
        rule_store.replace(settings, session, ws, row.id, {
            **edited, "action": {"kind": "email", "template": "win_back_1"}})
        with pytest.raises(defaults.DefaultRuleError, match="no longer a sequence"):
            defaults.tune(settings, session, ws, WIN_BACK, delays_days=[3])
        with pytest.raises(defaults.DefaultRuleError, match="unknown automation 'party'"):
            defaults.tune(settings, session, ws, "party", enabled=False)
