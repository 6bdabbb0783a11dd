"""The settings page's rule form: a rule document's parts as form fields, and the document
a submitted form stands for.

The form only gathers values: `document` builds the same JSON document the rules API
takes, and `rule_store.create` (the one validator) decides whether it is a rule and
names what is wrong. Each trigger and action kind takes the fields the rule model lists
for it (`TRIGGER_FIELDS`, `ACTION_FIELDS`); a field of another kind is left out, so the
form works without script, which only hides the fields the chosen kinds do not take.
Empty fields are left out too, so the model's defaults and messages apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from revsync.automations.actions import ACTION_FIELDS, ACTION_KINDS, SUBSCRIBER, TEAM
from revsync.automations.actions import TEMPLATE_NAME as TEMPLATE
from revsync.automations.mailer import template_names
from revsync.automations.triggers import TIMERS, TRIGGER_FIELDS, TRIGGER_KINDS
from revsync.revenue import STRIPE_TAGS
from revsync.settings import Settings

STEP_ROWS = 5  # a longer sequence goes through the rules API
STOP = "stop_"  # the prefix of the sequence's stop trigger's fields
# What each trigger field is called on the page, in the order the form shows them.
TRIGGER_LABELS = {
    "tag": "Tag",
    "threshold": "Threshold",
    "direction": "Direction",
    "min_change": "Smallest change in MRR",
    "min_percent": "Smallest change in percent of the MRR before",
    "days": "Days before the trial ends (1-60)",
    "mrr_at_least": "Only when MRR (the larger of before and after) is at least",
}
SEPARATORS = re.compile(r"[\s,;]+")


def values(form: Mapping[str, Any]) -> dict[str, str]:
    """The filled-in fields as text, without the CSRF token: what a refused form shows
    again (kept in the session cookie, so the empty ones are left out)."""
    return {key: str(value) for key, value in form.items()
            if key != "csrf" and str(value).strip()}


def document(fields: Mapping[str, str]) -> dict[str, Any]:
    """The rule document these form fields stand for (not validated here)."""
    doc: dict[str, Any] = {
        "name": fields.get("name", ""),
        "trigger": _trigger(fields, "", fields.get("trigger_kind", "")),
        "action": _action(fields),
        "once_per_subscriber": fields.get("once_per_subscriber") == "on",
    }
    if _given(fields, "condition"):
        doc["condition"] = _given(fields, "condition")
    return doc


def choices(settings: Settings) -> dict[str, Any]:
    """What the form offers: the kinds, the fields each takes, tags and templates."""
    return {
        "trigger_kinds": TRIGGER_KINDS,
        "trigger_fields": [(field, label, [k for k in TRIGGER_KINDS if field in
                                           TRIGGER_FIELDS[k]])
                           for field, label in TRIGGER_LABELS.items()],
        "tags": sorted(STRIPE_TAGS),
        "action_kinds": ACTION_KINDS,
        "action_fields": {field: [k for k in ACTION_KINDS if field in ACTION_FIELDS[k]]
                          for field in set().union(*ACTION_FIELDS.values())},
        # A stop trigger on the form takes a tag at most; others go through the API.
        "stop_kinds": [k for k in TRIGGER_KINDS if k not in TIMERS
                       and set(TRIGGER_FIELDS[k]) <= {"tag", "mrr_at_least"}],
        "templates": [t for t in template_names(settings) if TEMPLATE.match(t)],
        "step_rows": range(1, STEP_ROWS + 1),
        "recipients": (SUBSCRIBER, TEAM),
    }


def _given(fields: Mapping[str, str], name: str) -> str:
    return fields.get(name, "").strip()


def _trigger(fields: Mapping[str, str], prefix: str, kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": kind}
    for name in TRIGGER_FIELDS.get(kind, ()):
        given = _given(fields, prefix + name)
        if given:
            doc[name] = _number(given) if name == "days" else given
    return doc


def _action(fields: Mapping[str, str]) -> dict[str, Any]:
    kind = fields.get("action_kind", "")
    takes = ACTION_FIELDS.get(kind, set())
    doc: dict[str, Any] = {"kind": kind}
    if "template" in takes and _given(fields, "template"):
        doc["template"] = _given(fields, "template")
    if "recipients" in takes and _given(fields, "recipients"):
        doc["recipients"] = SEPARATORS.split(_given(fields, "recipients"))
    if "steps" in takes:
        doc["steps"] = [_step(fields, n) for n in range(1, STEP_ROWS + 1)
                        if _given(fields, f"step{n}_template")]
    if "stop" in takes and _given(fields, STOP + "kind"):
        doc["stop"] = _trigger(fields, STOP, _given(fields, STOP + "kind"))
    if "stop_condition" in takes and _given(fields, "stop_condition"):
        doc["stop_condition"] = _given(fields, "stop_condition")
    return doc


def _step(fields: Mapping[str, str], row: int) -> dict[str, Any]:
    step: dict[str, Any] = {"template": _given(fields, f"step{row}_template"),
                            "to": _given(fields, f"step{row}_to") or SUBSCRIBER}
    if _given(fields, f"step{row}_after_days"):
        step["after_days"] = _number(_given(fields, f"step{row}_after_days"))
    return step


def _number(text: str) -> int | float | str:
    """A number typed in a field; text that is not one is passed on for the validator
    to name."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
