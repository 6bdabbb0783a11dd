"""Automation rules per workspace: three defaults, each can be turned off or tuned."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from revsync.automations.rules import DEFAULTS, Rule, validate
from revsync.automations.types import KINDS
from revsync.store.models import AutomationRule


def rules_for(session: Session, workspace_id: int) -> dict[str, Rule]:
    """Every automation of the workspace; one never configured is on, with defaults."""
    stored = {
        row.kind: row
        for row in session.exec(
            select(AutomationRule).where(AutomationRule.workspace_id == workspace_id)
        )
    }
    rules = {}
    for kind in KINDS:
        row = stored.get(kind)
        config = {**DEFAULTS[kind], **(row.config if row else {})}
        rules[kind] = Rule(kind, row.enabled if row else True, config)
    return rules


def configure(
    session: Session,
    workspace_id: int,
    kind: str,
    enabled: bool | None = None,
    config: dict[str, Any] | None = None,
) -> Rule:
    """Turn an automation on or off and/or change its settings; validated first."""
    current = rules_for(session, workspace_id).get(kind)
    merged = validate(kind, {**(dict(current.config) if current else {}), **(config or {})})
    row = session.get(AutomationRule, (workspace_id, kind)) or AutomationRule(
        workspace_id=workspace_id, kind=kind
    )
    row.config = merged
    if enabled is not None:
        row.enabled = enabled
    session.add(row)
    session.commit()
    return Rule(kind, row.enabled, merged)
