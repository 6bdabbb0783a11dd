"""The three default rules as documents: which transition starts or stops each (pure,
hand-written cases), and the documents their settings become."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from revsync.automations.defaults import SETTINGS, default_rules, document
from revsync.automations.definitions import ONCE, Definition, parse_definition, rule_commands
from revsync.automations.rule_store import stored_document
from revsync.automations.triggers import Change
from revsync.automations.types import START, STOP, TEAM_ALERT, THANK_YOU, WIN_BACK, Command

RULE_IDS = {WIN_BACK: 1, THANK_YOU: 2, TEAM_ALERT: 3}


def rules(**configs: dict[str, object]) -> list[tuple[int, Definition]]:
    """The defaults as stored rules 1-3, with some settings changed."""
    return [(RULE_IDS[kind], parse_definition(document(kind, {**config, **configs.get(kind, {})})))
            for kind, config in SETTINGS.items()]


def asked(change: Change, **configs: dict[str, object]) -> list[Command]:
    return rule_commands(change, rules(**configs))


def change(added: tuple[str, ...] = (), removed: tuple[str, ...] = (),
           mrr: tuple[str | None, str | None] = ("10", "10"),
           ltv: tuple[str | None, str | None] = ("10", "10")) -> Change:
    def dec(value: str | None) -> D | None:
        return None if value is None else D(value)
    return Change(7, 42, frozenset(added), frozenset(removed), dec(mrr[0]), dec(mrr[1]),
                  dec(ltv[0]), dec(ltv[1]))


def test_churn_starts_and_reactivation_stops_the_win_back() -> None:
    assert asked(change(added=("churned",), removed=("customer",))) == [
        Command("rule-1", START, 42, 7)]
    reactivated = change(added=("customer",), removed=("churned",))
    assert asked(reactivated) == [Command("rule-1", STOP, 42, 7, "stop trigger")]


@pytest.mark.parametrize("before, after, fires", [
    ("999.99", "1000.00", True),   # reaches the threshold: 1000 <= 1000
    ("500", "1500", True),
    (None, "1200", True),          # no LTV before counts as 0
    ("1000", "1200", False),       # already at it: crossed earlier
    ("1200", "900", False),        # downward (a refund) never thanks
    ("10", "999.99", False),
])
def test_thank_you_fires_once_when_ltv_crosses_upward(before: str | None, after: str,
                                                       fires: bool) -> None:
    expected = [Command("rule-2", START, 42, 7, ONCE)] if fires else []
    assert asked(change(ltv=(before, after))) == expected


@pytest.mark.parametrize("mrr, fires", [
    (("150.00", "0.00"), True),   # past_due leaves MRR: the MRR before counts
    (("100.00", "0.00"), True),   # exactly the threshold
    (("99.99", "0.00"), False),
    ((None, None), False),
])
def test_team_alert_needs_past_due_and_enough_mrr(mrr: tuple[str | None, str | None],
                                                   fires: bool) -> None:
    expected = [Command("rule-3", START, 42, 7)] if fires else []
    assert asked(change(added=("past-due",), mrr=mrr)) == expected


def test_tuned_thresholds_move_the_triggers() -> None:
    assert asked(change(ltv=("200", "300")), thank_you={"threshold": "250"}) == [
        Command("rule-2", START, 42, 7, ONCE)]
    assert asked(change(added=("past-due",), mrr=("150.00", "0.00")),
                 team_alert={"threshold": "200"}) == []


def test_settings_become_these_documents() -> None:
    tuned: dict[str, dict[str, object]] = {
        WIN_BACK: {"delays_days": [2, 5.5, 9]}, THANK_YOU: {"threshold": "1e3"},
        TEAM_ALERT: {"threshold": "150", "recipients": ["ops@shop.example"]}}
    made = {kind: stored_document(parse_definition(document(kind, config)))
            for kind, config in tuned.items()}
    assert made[WIN_BACK] == {
        "name": "Win-back sequence", "condition": None, "once_per_subscriber": False,
        "trigger": {"kind": "tag_added", "tag": "churned"},
        "action": {"kind": "sequence", "stop": {"kind": "tag_removed", "tag": "churned"},
                   "steps": [
                       {"template": "win_back_1", "to": "subscriber", "after_days": 0.0},
                       {"template": "win_back_2", "to": "subscriber", "after_days": 2.0},
                       {"template": "win_back_3", "to": "subscriber", "after_days": 5.5},
                       {"template": "win_back_3", "to": "subscriber", "after_days": 9.0}]}}
    assert made[THANK_YOU]["trigger"] == {
        "kind": "ltv_crossed", "threshold": "1000", "direction": "up"}
    assert made[THANK_YOU]["once_per_subscriber"] is True
    assert made[TEAM_ALERT]["trigger"] == {
        "kind": "tag_added", "tag": "past-due", "mrr_at_least": "150"}
    assert made[TEAM_ALERT]["action"] == {
        "kind": "notify_team", "template": "team_alert", "recipients": ["ops@shop.example"]}


def test_a_workspace_starts_with_the_three_defaults_at_their_starting_settings() -> None:
    made = {rule.key: rule for rule in default_rules()}
    assert [(k, r.name) for k, r in made.items()] == [
        (WIN_BACK, "Win-back sequence"), (THANK_YOU, "Thank-you email"),
        (TEAM_ALERT, "Team alert on a failed payment")]
    assert [s["after_days"] for s in made[WIN_BACK].definition["action"]["steps"]] == [
        0.0, 3.0, 7.0]
    assert made[THANK_YOU].definition["trigger"]["threshold"] == "1000"
    assert made[TEAM_ALERT].definition["trigger"]["mrr_at_least"] == "100"
