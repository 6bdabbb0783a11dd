"""The three built-in automations as they were before they became default rules.

Win-back, thank-you and team alert used to be hard-coded kinds with settings in the
`automation_rule` table. They are now rules like any other (`defaults`), created from
those settings. What stays here is what the workflows still running from before need:
their settings (the email activity reads a threshold or the team's addresses), and the
win-back stop that dispatch still sends to such a workflow when a subscriber reactivates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from revsync.automations.triggers import Change
from revsync.automations.types import KINDS, STOP, TEAM_ALERT, THANK_YOU, WIN_BACK, Command
from revsync.store.models import AutomationRule

DEFAULTS: dict[str, dict[str, Any]] = {
    WIN_BACK: {"delays_days": [3, 7]},
    THANK_YOU: {"threshold": "1000"},
    TEAM_ALERT: {"threshold": "100", "recipients": []},
}


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    config: Mapping[str, Any]

    @property
    def threshold(self) -> Decimal:
        return Decimal(str(self.config.get("threshold", DEFAULTS[self.kind].get("threshold"))))


def rules_for(session: Session, workspace_id: int) -> dict[str, Rule]:
    """Each built-in's stored settings; one never configured is on, with defaults."""
    stored = {row.kind: row for row in session.exec(
        select(AutomationRule).where(AutomationRule.workspace_id == workspace_id))}
    rules = {}
    for kind in KINDS:
        row = stored.get(kind)
        config = {**DEFAULTS[kind], **(row.config if row else {})}
        rules[kind] = Rule(kind, row.enabled if row else True, config)
    return rules


def win_back_stop(change: Change) -> Command | None:
    """Reactivation stops a win-back sequence started before the defaults were rules.

    Sent for every `churned` removed: a plain signal, answered "not found" when no such
    workflow runs (the usual case), so it never starts one.
    """
    if "churned" not in change.tags_removed:
        return None
    return Command(WIN_BACK, STOP, change.subscriber_id, change.transition_id, "reactivated")
