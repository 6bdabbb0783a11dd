"""The settings page's automations section: the workspace's rules (add one with the rule
form, `rule_form`; turn on or off, delete) and the newest webhook deliveries.

The forms go through the page's own plumbing (`SettingsPage._form`: sign-in, CSRF); a
rule that does not validate is flashed with every problem and what was typed is kept in
the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.requests import Request

from revsync.automations import outbound_store, rule_store
from revsync.automations.definitions import DefinitionError
from revsync.settings import Settings
from revsync.store import db, workspaces
from revsync.web import rule_form

T = TypeVar("T")
DELIVERIES_SHOWN = 20
DRAFT = "rule_draft"


class AutomationsSection:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url

    def context(self, request: Request, name: str) -> dict[str, Any]:
        """What the template's automations section shows (read in a worker thread)."""
        return self._in_workspace(name, lambda session, workspace_id: {
            "rules": [rule_store.shown(r) for r in rule_store.list_rules(session,
                                                                        workspace_id)],
            "deliveries": outbound_store.deliveries(session, workspace_id, DELIVERIES_SHOWN),
            "rule_draft": request.session.pop(DRAFT, {}),
            "rule_form": rule_form.choices(self.settings),
        })

    def posts(self) -> dict[str, Any]:
        """Form name -> handler(request, workspace name, form), run in a thread."""
        return {"rules-add": self.add, "rules-toggle": self.toggle,
                "rules-delete": self.delete}

    def add(self, request: Request, name: str, form: Any) -> str:
        fields = rule_form.values(form)
        try:
            row = self._in_workspace(name, lambda s, ws: rule_store.create(
                self.settings, s, ws, rule_form.document(fields)))
        except (DefinitionError, rule_store.RuleStoreError):
            request.session[DRAFT] = fields
            raise
        return f"Rule {row.name!r} added."

    def toggle(self, request: Request, name: str, form: Any) -> str:
        rule_id, on = _rule_id(form), form.get("enabled") == "on"
        row = self._in_workspace(name, lambda s, ws: rule_store.set_enabled(s, ws, rule_id, on))
        return f"Rule {row.name!r} is {'on' if on else 'off'}."

    def delete(self, request: Request, name: str, form: Any) -> str:
        rule_id = _rule_id(form)
        self._in_workspace(name, lambda s, ws: rule_store.delete(s, ws, rule_id))
        return f"Rule {rule_id} deleted."

    def _in_workspace(self, name: str, work: Callable[[Session, int], T]) -> T:
        with db.session(self.url) as session:
            workspace_id = workspaces.by_name(session, name).id
            assert workspace_id is not None
            return work(session, workspace_id)


def _rule_id(form: Any) -> int:
    raw = str(form.get("rule_id", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise rule_store.RuleNotFound(f"no rule with id {raw!r} in this workspace")
    return int(raw)
