"""Migration 0013 turns each workspace's built-in automation settings into its three
default rules, and a subscriber thanked at the current threshold stays thanked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from revsync.automations import dispatch, rule_store
from revsync.automations.definitions import ONCE
from revsync.store import db
from revsync.store.models import AutomationFire, SubscriberTransition, Workspace
from tests.store.rows import add_people, database_at, run

SETTINGS = ("INSERT INTO automation_rule (workspace_id, kind, enabled, config) VALUES "
            "(1, 'win_back', false, '{\"delays_days\": [2, 5]}'), "
            "(1, 'thank_you', true, '{\"threshold\": \"500\"}'), "
            "(1, 'team_alert', true, '{\"threshold\": \"100\", "
            "\"recipients\": [\"ops@shop.example\"]}')")
# Subscriber 1 was thanked at 500 (today's threshold), subscriber 2 at an older 1000.
FIRES = ("INSERT INTO automation_fire (workspace_id, automation, subscriber_id, key, "
         "transition_id, fired_at) VALUES (1, 'thank_you', 1, 'ltv>=500', 11, '2026-01-01'), "
         "(1, 'thank_you', 2, 'ltv>=1000', 12, '2026-01-01')")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_settings_become_default_rules_and_thanks_are_kept(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = database_at(kind, "0012", tmp_path, request)
    add_people(url)
    run(url, SETTINGS, FIRES)
    db.migrate(url)
    with db.session(url) as session:
        rows = rule_store.list_rules(session, 1)
        assert [(r.default_key, r.name, r.enabled) for r in rows] == [
            ("win_back", "Win-back sequence", False),
            ("thank_you", "Thank-you email", True),
            ("team_alert", "Team alert on a failed payment", True)]
        win_back, thank_you, team_alert = (r.definition for r in rows)
        assert [(s["template"], s["after_days"]) for s in win_back["action"]["steps"]] == [
            ("win_back_1", 0.0), ("win_back_2", 2.0), ("win_back_3", 5.0)]
        assert thank_you["trigger"] == {"kind": "ltv_crossed", "threshold": "500",
                                        "direction": "up"}
        assert team_alert["trigger"]["mrr_at_least"] == "100"
        assert team_alert["action"]["recipients"] == ["ops@shop.example"]
        thanks = f"rule-{rows[1].id}"
        kept = session.exec(select(AutomationFire).where(AutomationFire.automation == thanks))
        assert [(f.subscriber_id, f.key, f.transition_id) for f in kept] == [(1, ONCE, 11)]
        workspace = session.get(Workspace, 1)
        assert workspace is not None and workspace.default_rules_created is True
        # The rules act at once: subscriber 1 crossing 500 again is not thanked twice,
        # subscriber 2 (thanked at the old threshold) crossing it is.
        for subscriber_id, source in ((1, "evt_1"), (2, "evt_2")):
            session.add(SubscriberTransition(
                workspace_id=1, subscriber_id=subscriber_id, source_id=source, tags_added=[],
                tags_removed=[], ltv_before=Decimal(0), ltv_after=Decimal(600)))
        session.commit()
        assert dispatch.plan(session, 1, "evt_1")[0] == []
        [again] = dispatch.plan(session, 1, "evt_2")[0]
        assert (again.automation, again.subscriber_id, again.key) == (thanks, 2, ONCE)
