"""A workspace's rule documents: parsed, normalised, every mistake named; which commands a
transition asks of them."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from revsync.automations.definitions import (
    ONCE,
    DefinitionError,
    parse_definition,
    rule_commands,
)
from revsync.automations.triggers import Change
from revsync.automations.types import START, STOP, Command

WIN_BACK_HIGH = {
    "name": " Win back high spenders ",
    "trigger": {"kind": "tag_added", "tag": "churned"},
    "condition": "ltv > 500",
    "action": {"kind": "sequence", "stop": {"kind": "tag_removed", "tag": "churned"},
               "stop_condition": "unsubscribed = true",
               "steps": [{"template": "win_back_1"},
                         {"template": "win_back_2", "after_days": 3},
                         {"template": "team_alert", "to": "team", "after_days": 0.5}]},
}


def change(added: str = "", removed: str = "", ltv: tuple[str, str] = ("10", "10"),
           transition: int = 7) -> Change:
    def tags(text: str) -> frozenset[str]:
        return frozenset(t for t in text.split(",") if t)
    return Change(transition, 42, tags(added), tags(removed), D("10"), D("10"), D(ltv[0]),
                  D(ltv[1]), None)


def test_a_rule_document_is_normalised() -> None:
    rule = parse_definition(WIN_BACK_HIGH)
    assert rule.to_doc() == {
        "name": "Win back high spenders",
        "trigger": {"kind": "tag_added", "tag": "churned"},
        "condition": "ltv > 500",
        "action": {"kind": "sequence",
                   "steps": [{"template": "win_back_1", "to": "subscriber", "after_days": 0.0},
                             {"template": "win_back_2", "to": "subscriber", "after_days": 3.0},
                             {"template": "team_alert", "to": "team", "after_days": 0.5}],
                   "stop": {"kind": "tag_removed", "tag": "churned"},
                   "stop_condition": "unsubscribed = true"},
        "once_per_subscriber": False,
        "enabled": True,
    }
    assert parse_definition(rule.to_doc()) == rule
    assert rule.action.templates == {"win_back_1", "win_back_2", "team_alert"}
    email = parse_definition({"name": "thanks", "trigger": {"kind": "payment"},
                              "action": {"kind": "email", "template": "thank_you"},
                              "condition": "", "once_per_subscriber": True})
    assert email.condition is None and email.once_per_subscriber
    assert email.action.to_doc() == {"kind": "email", "template": "thank_you"}


def test_commands_start_stop_and_once() -> None:
    rules = [(3, parse_definition(WIN_BACK_HIGH)),
             (5, parse_definition({"name": "first payment", "trigger": {"kind": "payment"},
                                   "once_per_subscriber": True,
                                   "action": {"kind": "email", "template": "thank_you"}}))]
    assert rule_commands(change(added="churned"), rules) == [Command("rule-3", START, 42, 7)]
    assert rule_commands(change(removed="churned", transition=8), rules) == [
        Command("rule-3", STOP, 42, 8, "stop trigger")]
    assert rule_commands(change(ltv=("10", "25"), transition=9), rules) == [
        Command("rule-5", START, 42, 9, ONCE)]
    assert rule_commands(change(removed="trial"), rules) == []
    timer = [(8, parse_definition({"name": "ends", "trigger": {"kind": "trial_ends_in",
                                                               "days": 3},
                                   "action": {"kind": "email", "template": "thank_you"}}))]
    assert rule_commands(change(added="trial"), timer) == [Command("rule-8", START, 42, 7)]
    assert rule_commands(change(removed="trial", added="customer"), timer) == [
        Command("rule-8", STOP, 42, 7, "trial over")]


@pytest.mark.parametrize("doc, message", [
    (None, "a rule is a JSON object with name, trigger and action"),
    ({**WIN_BACK_HIGH, "when": "now"}, "a rule has no field when"),
    ({**WIN_BACK_HIGH, "name": ""}, "name is 1-100 characters"),
    ({**WIN_BACK_HIGH, "name": "x" * 101}, "name is 1-100 characters"),
    ({**WIN_BACK_HIGH, "name": 5}, "name is 1-100 characters"),
    ({**WIN_BACK_HIGH, "trigger": None}, "trigger is an object with a 'kind'"),
    ({**WIN_BACK_HIGH, "trigger": {"kind": "tag_added", "tag": "vip"}}, "needs a tag"),
    ({**WIN_BACK_HIGH, "condition": "ltv >"}, "condition: position 6: expected a value"),
    ({**WIN_BACK_HIGH, "condition": 500}, "condition is a segment expression"),
    ({**WIN_BACK_HIGH, "enabled": "yes"}, "enabled is true or false"),
    ({**WIN_BACK_HIGH, "once_per_subscriber": 1}, "once_per_subscriber is true or false"),
    ({**WIN_BACK_HIGH, "action": "email"}, "action is an object with a 'kind'"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sms"}}, "action kind 'sms' is not one of"),
    ({**WIN_BACK_HIGH, "action": {"kind": "email"}}, "template is a template name"),
    ({**WIN_BACK_HIGH, "action": {"kind": "email", "template": "../etc/passwd"}},
     "template is a template name (a-z, 0-9, _), not '../etc/passwd'"),
    ({**WIN_BACK_HIGH, "action": {"kind": "email", "template": "x", "recipients": []}},
     "action email takes no recipients"),
    ({**WIN_BACK_HIGH, "action": {"kind": "notify_team", "template": "x",
                                  "recipients": ["nobody"]}},
     "recipients: 'nobody' is not an email address"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": []}},
     "steps is a list of 1-20 steps"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [{"template": "x"}] * 21}},
     "steps is a list of 1-20 steps"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": ["x"]}},
     "step 1 is an object with a 'template'"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [{"template": "x",
                                                                "wait": 1}]}},
     "step 1 takes no wait"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [
        {"template": "x"}, {"template": "y", "after_days": 400}]}},
     "step 2: after_days is a number of days from 0 to 365, not 400"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [
        {"template": "x", "after_days": "3"}]}}, "after_days is a number of days"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [
        {"template": "x", "to": "boss"}]}}, "to is 'subscriber' or 'team', not 'boss'"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [{"template": "x"}],
                                  "stop": {"kind": "later"}}},
     "action sequence: stop: trigger kind 'later' is not one of"),
    ({**WIN_BACK_HIGH, "action": {"kind": "sequence", "steps": [{"template": "x"}],
                                  "stop_condition": "tag ="}},
     "action sequence: stop_condition: position"),
])
def test_malformed_rules_say_what_is_wrong(doc: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_definition(doc)
    assert message in str(raised.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_definition({"name": "", "trigger": {}, "action": {}, "enabled": 0})
    assert str(raised.value).count(";") == 3  # name, trigger, action, enabled


@pytest.mark.parametrize("address", [
    "team@shop.example\n", "team@shop.example\r\n", " team@shop.example", "team@shop.example ",
    "team@shop .example", "te\tam@shop.example", "team@shop.example\x00", "team@@shop.example",
    "Team <team@shop.example>",
])
def test_a_team_recipient_is_an_address_exactly(address: str) -> None:
    """A trailing newline passed the old check, then failed every send: refused at once,
    naming the address."""
    doc = {**WIN_BACK_HIGH, "action": {"kind": "notify_team", "template": "team_alert",
                                       "recipients": ["ops@shop.example", address]}}
    with pytest.raises(DefinitionError) as raised:
        parse_definition(doc)
    assert f"recipients: {address!r} is not an email address" in str(raised.value)
