"""What a rule does when its trigger fires. Pure: no I/O.

- `email`: one email to the subscriber.
- `notify_team`: one email to the team (the rule's recipients, else `REVSYNC_TEAM_ALERT_TO`).
- `webhook`: one signed POST to the host platform's endpoint (`outbound`), retried with
  backoff by Temporal, so the platform's own automation engine can react.
- `sequence`: steps, each an email to the subscriber or the team, each sent `after_days`
  after the previous one; it stops when its `stop` trigger fires on a later transition
  (e.g. `churned` removed), when `stop_condition` (a segment expression) holds before a
  step, or when the subscriber unsubscribes.

Templates are named here and looked up when the rule is saved (see `rule_store`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from revsync.automations.documents import kind_of
from revsync.automations.triggers import Trigger, TriggerError, parse_trigger
from revsync.segments import Expr, SegmentError, parse, to_text
from revsync.subscribers.addresses import exact_email

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_STEPS = 20
MAX_DAYS = 365
MAX_RECIPIENTS = 20
SUBSCRIBER, TEAM, HOST = "subscriber", "team", "host"


class ActionError(ValueError):
    """An action document is unusable; the message says which field and why."""


@dataclass(frozen=True)
class Step:
    template: str
    to: str = SUBSCRIBER  # subscriber | team | host (a webhook: no template)
    after_days: float = 0.0  # after the previous step (the first: after the trigger)


@dataclass(frozen=True)
class Action:
    """A parsed action: `email` and `notify_team` are one-step sequences that never stop."""

    kind: str  # email | notify_team | sequence
    steps: tuple[Step, ...]
    recipients: tuple[str, ...] = ()  # the team's addresses; empty: the deployment's
    stop: Trigger | None = None
    stop_condition: Expr | None = None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": self.kind}
        if self.kind == "sequence":
            doc["steps"] = [{"template": s.template, "to": s.to, "after_days": s.after_days}
                            for s in self.steps]
        elif self.kind != "webhook":
            doc["template"] = self.steps[0].template
        if self.recipients:
            doc["recipients"] = list(self.recipients)
        if self.stop is not None:
            doc["stop"] = self.stop.to_doc()
        if self.stop_condition is not None:
            doc["stop_condition"] = to_text(self.stop_condition)
        return doc

    @property
    def templates(self) -> set[str]:
        return {step.template for step in self.steps if step.to != HOST}


# The fields each kind takes besides `kind`.
ACTION_FIELDS: dict[str, set[str]] = {
    "email": {"template"},
    "notify_team": {"template", "recipients"},
    "webhook": set(),
    "sequence": {"steps", "recipients", "stop", "stop_condition"},
}
ACTION_KINDS: tuple[str, ...] = tuple(ACTION_FIELDS)


def parse_action(doc: Any) -> Action:
    """An action from its document; `ActionError` names the first problem."""
    kind, doc = kind_of(doc, "action", ACTION_FIELDS, ActionError)
    recipients = _recipients(doc.get("recipients", []))
    if kind == "webhook":
        return Action(kind, (Step("", HOST),))
    if kind != "sequence":
        to = TEAM if kind == "notify_team" else SUBSCRIBER
        return Action(kind, (Step(_template(doc.get("template")), to),), recipients)
    steps = doc.get("steps")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise ActionError(f"action sequence: steps is a list of 1-{MAX_STEPS} steps")
    stop = None
    if doc.get("stop") is not None:
        try:
            stop = parse_trigger(doc["stop"])
        except TriggerError as error:
            raise ActionError(f"action sequence: stop: {error}") from None
    return Action(kind, tuple(_step(n, s) for n, s in enumerate(steps, 1)), recipients, stop,
                  _stop_condition(doc.get("stop_condition")))


def _step(number: int, doc: Any) -> Step:
    if not isinstance(doc, Mapping):
        raise ActionError(f"action sequence: step {number} is an object with a 'template'")
    unknown = sorted(set(doc) - {"template", "to", "after_days"})
    if unknown:
        raise ActionError(f"action sequence: step {number} takes no {', '.join(unknown)}")
    to = doc.get("to", SUBSCRIBER)
    if to not in (SUBSCRIBER, TEAM):
        raise ActionError(f"action sequence: step {number}: to is 'subscriber' or 'team', "
                          f"not {to!r}")
    days = doc.get("after_days", 0)
    if (isinstance(days, bool) or not isinstance(days, int | float)
            or not 0 <= days <= MAX_DAYS or days != days):
        raise ActionError(f"action sequence: step {number}: after_days is a number of days "
                          f"from 0 to {MAX_DAYS}, not {days!r}")
    return Step(_template(doc.get("template"), f"step {number}: "), to, float(days))


def _template(name: Any, where: str = "") -> str:
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise ActionError(f"action {where}template is a template name (a-z, 0-9, _), "
                          f"not {name!r}")
    return name


def _recipients(value: Any) -> tuple[str, ...]:
    if (not isinstance(value, list) or len(value) > MAX_RECIPIENTS
            or not all(isinstance(r, str) for r in value)):
        raise ActionError(f"action recipients is a list of up to {MAX_RECIPIENTS} email "
                          "addresses")
    for address in value:
        if not exact_email(address):
            raise ActionError(f"action recipients: {address!r} is not an email address "
                              "(one address, no spaces, line breaks or control characters)")
    return tuple(value)


def _stop_condition(text: Any) -> Expr | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ActionError("action sequence: stop_condition is a segment expression")
    try:
        return parse(text)
    except SegmentError as error:
        raise ActionError(f"action sequence: stop_condition: {error}") from None
