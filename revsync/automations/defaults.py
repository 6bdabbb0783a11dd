"""The three default rules every workspace starts with: win-back, thank-you, team alert.

They are ordinary rules (`definitions`), created once per workspace when Stripe is
first connected (`Workspace.default_rules_created` records it, so a default the user
deleted stays deleted and an edited one keeps its edits). `AutomationRule.default_key`
names the default a rule began as; `automations set KIND` edits that rule.

- win_back: `churned` added starts three emails (now, then after each delay);
  `churned` removed (reactivated) or unsubscribing stops them.
- thank_you: `ltv` crosses the threshold upward: one email, once per subscriber ever.
- team_alert: `past-due` added while MRR (the larger of before and after) is at least
  the threshold: an email to the team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from revsync.automations.definitions import parse_definition
from revsync.automations.rule_store import RuleNotFound, replace, stored_document
from revsync.automations.types import KINDS, TEAM_ALERT, THANK_YOU, WIN_BACK
from revsync.settings import Settings
from revsync.store import workspaces
from revsync.store.models import AutomationRule

NAMES = {WIN_BACK: "Win-back sequence", THANK_YOU: "Thank-you email",
         TEAM_ALERT: "Team alert on a failed payment"}
WIN_BACK_TEMPLATES = ("win_back_1", "win_back_2", "win_back_3")  # the last one repeats
# The settings each default starts with (`automations set KIND` changes them).
SETTINGS: dict[str, dict[str, Any]] = {
    WIN_BACK: {"delays_days": [3, 7]},
    THANK_YOU: {"threshold": "1000"},
    TEAM_ALERT: {"threshold": "100", "recipients": []},
}


@dataclass(frozen=True)
class DefaultRule:
    key: str  # win_back | thank_you | team_alert
    name: str
    definition: dict[str, Any]  # as stored: the normalised document without `enabled`


def document(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The document of the default rule `kind` with these settings (keys as `SETTINGS`)."""
    if kind == WIN_BACK:
        return {"name": NAMES[kind], "trigger": {"kind": "tag_added", "tag": "churned"},
                "action": {"kind": "sequence", "steps": _win_back_steps([], config["delays_days"]),
                           "stop": {"kind": "tag_removed", "tag": "churned"}}}
    if kind == THANK_YOU:
        return {"name": NAMES[kind], "once_per_subscriber": True,
                "trigger": {"kind": "ltv_crossed", "threshold": str(config["threshold"]),
                            "direction": "up"},
                "action": {"kind": "email", "template": "thank_you"}}
    return {"name": NAMES[kind],
            "trigger": {"kind": "tag_added", "tag": "past-due",
                        "mrr_at_least": str(config["threshold"])},
            "action": {"kind": "notify_team", "template": "team_alert",
                       "recipients": list(config.get("recipients") or [])}}


def default_rules() -> list[DefaultRule]:
    """The three defaults with their starting settings, on."""
    found = []
    for kind in KINDS:
        parsed = parse_definition(document(kind, SETTINGS[kind]))
        found.append(DefaultRule(kind, parsed.name, stored_document(parsed)))
    return found


def ensure_default_rules(database_url: str, workspace_name: str) -> int:
    """Create the defaults unless done before; returns how many were created. A default
    whose name the workspace already uses is skipped, not renamed."""
    return workspaces.create_once(database_url, workspace_name, "default_rules_created",
                                  _create_missing)


def _create_missing(session: Session, workspace_id: int) -> int:
    taken = set(session.exec(select(AutomationRule.name)
                             .where(AutomationRule.workspace_id == workspace_id)))
    created = 0
    for rule in default_rules():
        if rule.name not in taken:
            session.add(AutomationRule(workspace_id=workspace_id, name=rule.name,
                                       definition=rule.definition, default_key=rule.key))
            created += 1
    return created


class DefaultRuleError(ValueError):
    """A default rule cannot be tuned as asked; nothing was changed."""


def default_rule(session: Session, workspace_id: int, kind: str) -> AutomationRule:
    if kind not in KINDS:
        raise DefaultRuleError(f"unknown automation {kind!r}; one of {', '.join(KINDS)}")
    row = session.exec(select(AutomationRule).where(
        AutomationRule.workspace_id == workspace_id, AutomationRule.default_key == kind)).first()
    if row is None:
        raise RuleNotFound(f"this workspace has no {kind} rule (it was deleted); "
                           "`automations rules add` creates a rule")
    return row


def tune(settings: Settings, session: Session, workspace_id: int, kind: str, *,
         enabled: bool | None = None, delays_days: Sequence[float] | None = None,
         threshold: str | None = None, recipients: Sequence[str] | None = None
         ) -> AutomationRule:
    """Change the settings a default rule began with, keeping the rest of its document
    (a condition added, templates changed); validated as a whole rule first."""
    row = default_rule(session, workspace_id, kind)
    doc = {**row.definition, "enabled": row.enabled if enabled is None else enabled}
    trigger, action = dict(doc["trigger"]), dict(doc["action"])
    if delays_days is not None:
        _only(kind, WIN_BACK, "delays")
        if action["kind"] != "sequence":
            raise DefaultRuleError("this win_back rule's action is no longer a sequence")
        action["steps"] = _win_back_steps(action["steps"], delays_days)
    if threshold is not None:
        field = {THANK_YOU: "threshold", TEAM_ALERT: "mrr_at_least"}.get(kind)
        if field is None:
            raise DefaultRuleError("win_back has no threshold")
        trigger[field] = threshold
    if recipients is not None:
        _only(kind, TEAM_ALERT, "recipients")
        action["recipients"] = list(recipients)
    return replace(settings, session, workspace_id, row.id or 0,
                   {**doc, "trigger": trigger, "action": action})


def summary(row: AutomationRule) -> dict[str, Any]:
    """A default rule's settings in the terms `automations set` takes."""
    trigger, action = row.definition["trigger"], row.definition["action"]
    shown: dict[str, Any] = {}
    if action["kind"] == "sequence":
        shown["delays_days"] = [step["after_days"] for step in action["steps"][1:]]
    for field in ("threshold", "mrr_at_least"):
        if field in trigger:
            shown["threshold"] = trigger[field]
    if action["kind"] == "notify_team":
        shown["recipients"] = action.get("recipients", [])
    if row.definition.get("condition"):
        shown["condition"] = row.definition["condition"]
    return shown


def _win_back_steps(steps: Sequence[Mapping[str, Any]], delays_days: Sequence[float]
                    ) -> list[dict[str, Any]]:
    """An email now and one after each delay; a step there was keeps its template and
    recipient, a new one takes the next win-back template."""
    found = []
    for number, after in enumerate([0, *delays_days]):
        template = WIN_BACK_TEMPLATES[min(number, len(WIN_BACK_TEMPLATES) - 1)]
        kept = steps[number] if number < len(steps) else {"template": template}
        found.append({**kept, "after_days": after})
    return found


def _only(kind: str, allowed: str, option: str) -> None:
    if kind != allowed:
        raise DefaultRuleError(f"{option} is a {allowed} setting, not one of {kind}")
