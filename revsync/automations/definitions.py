"""A workspace's own automation rule: trigger + optional condition + action. Pure.

A rule is written as one JSON document:

    {"name": "Win back high spenders",
     "trigger": {"kind": "tag_added", "tag": "churned"},
     "condition": "ltv > 500",
     "action": {"kind": "sequence", "stop": {"kind": "tag_removed", "tag": "churned"},
                "steps": [{"template": "win_back_1"},
                          {"template": "win_back_2", "after_days": 3}]},
     "once_per_subscriber": false,
     "enabled": true}

The condition is a segment expression evaluated when the rule fires (not when it is
saved), so "only high spenders" means high spenders at that moment.
`once_per_subscriber` makes a rule fire at most once per subscriber, ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from revsync.automations.actions import Action, ActionError, parse_action
from revsync.automations.triggers import (
    Change,
    Trigger,
    TriggerError,
    disarms,
    fires,
    parse_trigger,
)
from revsync.automations.types import START, STOP, Command
from revsync.segments import Expr, SegmentError, parse, to_text

MAX_NAME = 100
ONCE = "once"  # the key of a start that may happen once per subscriber, ever
FIELDS = ("name", "trigger", "condition", "action", "once_per_subscriber", "enabled")


class DefinitionError(ValueError):
    """A rule document is unusable; the message lists every problem found."""


@dataclass(frozen=True)
class Definition:
    name: str
    trigger: Trigger
    action: Action
    condition: Expr | None = None
    once_per_subscriber: bool = False
    enabled: bool = True

    def to_doc(self) -> dict[str, Any]:
        """The normalised document (what is stored and shown)."""
        return {
            "name": self.name,
            "trigger": self.trigger.to_doc(),
            "condition": None if self.condition is None else to_text(self.condition),
            "action": self.action.to_doc(),
            "once_per_subscriber": self.once_per_subscriber,
            "enabled": self.enabled,
        }


def rule_automation(rule_id: int) -> str:
    """The automation name of a workspace rule: in workflow ids, keys and the outbox."""
    return f"rule-{rule_id}"


def rule_id_of(automation: str) -> int:
    """The rule id in a name from `rule_automation`."""
    return int(automation.removeprefix("rule-"))


def rule_commands(change: Change, rules: list[tuple[int, Definition]]) -> list[Command]:
    """What this transition asks of the workspace's enabled rules, in rule id order.

    A sequence's `stop` trigger stops it; a rule whose trigger and stop both fire on one
    transition starts (the later transition is the one that stops it).
    """
    found: list[Command] = []
    for rule_id, rule in rules:
        name = rule_automation(rule_id)
        if fires(rule.trigger, change):
            key = ONCE if rule.once_per_subscriber else ""
            found.append(Command(name, START, change.subscriber_id, change.transition_id, key))
        elif rule.action.stop is not None and fires(rule.action.stop, change):
            found.append(Command(name, STOP, change.subscriber_id, change.transition_id,
                                 "stop trigger"))
        elif disarms(rule.trigger, change):
            found.append(Command(name, STOP, change.subscriber_id, change.transition_id,
                                 "trial over"))
    return found


def parse_definition(doc: Any) -> Definition:
    """A rule from its document; `DefinitionError` lists every problem, one per field."""
    if not isinstance(doc, Mapping):
        raise DefinitionError("a rule is a JSON object with name, trigger and action")
    problems: list[str] = []
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        problems.append(f"a rule has no field {', '.join(unknown)} "
                        f"(fields: {', '.join(FIELDS)})")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        problems.append(f"name is 1-{MAX_NAME} characters")
    trigger = _part(problems, parse_trigger, doc.get("trigger"), TriggerError)
    action = _part(problems, parse_action, doc.get("action"), ActionError)
    condition = None
    if doc.get("condition") not in (None, ""):
        if not isinstance(doc["condition"], str):
            problems.append("condition is a segment expression, e.g. ltv > 500")
        else:
            condition = _part(problems, parse, doc["condition"], SegmentError, "condition: ")
    flags = {}
    for flag, default in (("once_per_subscriber", False), ("enabled", True)):
        flags[flag] = doc.get(flag, default)
        if not isinstance(flags[flag], bool):
            problems.append(f"{flag} is true or false")
    if problems:
        raise DefinitionError("; ".join(problems))
    assert isinstance(name, str) and trigger is not None and action is not None
    return Definition(name.strip(), trigger, action, condition, **flags)


def _part(problems: list[str], parser: Any, value: Any, error: type[Exception],
          prefix: str = "") -> Any:
    try:
        return parser(value)
    except error as problem:
        problems.append(f"{prefix}{problem}")
        return None
