"""A workspace's own rules, stored: create, replace, turn on or off, delete, list.

Every write validates the whole document first (`definitions.parse_definition`) and
that its templates exist, so nothing is half-saved. Rules take effect for transitions
dispatched after the write; a running sequence reads its rule before each step.
"""

from __future__ import annotations

import functools
from dataclasses import replace as replace_fields
from typing import Any

import orjson
from sqlalchemy import Text, cast, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from revsync.automations import mailer
from revsync.automations.definitions import Definition, DefinitionError, parse_definition
from revsync.settings import Settings
from revsync.store.models import AutomationRule, utcnow


class RuleStoreError(ValueError):
    """A rule cannot be saved or found; nothing was changed."""


class RuleNotFound(RuleStoreError):
    pass


class DuplicateRuleName(RuleStoreError):
    pass


class TooManyRules(RuleStoreError):
    """The workspace has as many rules as a workspace may (`REVSYNC_MAX_RULES_PER_WORKSPACE`):
    every enabled rule is read for each transition dispatched."""


def definition_of(row: AutomationRule) -> Definition:
    """The stored rule, parsed (it was valid when saved). Dispatch reads every enabled
    rule of the workspace for each event, so a document is parsed (its segment
    expressions with lark) once per process, not once per event."""
    text = orjson.dumps(row.definition, option=orjson.OPT_SORT_KEYS).decode()
    return replace_fields(_parsed(text), enabled=row.enabled)


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> Definition:
    return parse_definition(orjson.loads(text))


def stored_document(definition: Definition) -> dict[str, Any]:
    """What the `definition` column keeps: the document without `enabled`, which is its
    own column (the one place it is read from)."""
    doc = definition.to_doc()
    del doc["enabled"]
    return doc


def checked(settings: Settings, doc: Any) -> Definition:
    """The document parsed, with every template it names present."""
    definition = parse_definition(doc)
    missing = sorted(t for t in definition.action.templates
                     if not mailer.template_exists(settings, t))
    if missing:
        raise DefinitionError(f"no email template {', '.join(missing)} "
                              "(templates are <name>.txt in REVSYNC_TEMPLATES_DIR or packaged)")
    return definition


def list_rules(session: Session, workspace_id: int) -> list[AutomationRule]:
    return list(session.exec(select(AutomationRule)
                             .where(AutomationRule.workspace_id == workspace_id)
                             .order_by(col(AutomationRule.id))))


def enabled_rules(session: Session, workspace_id: int) -> list[tuple[int, Definition]]:
    """The enabled rules, parsed. Every event with a transition asks this, so the documents
    are read as the text they are stored as, the key of the per-process parse cache: no
    ORM rows are built and no JSON is decoded. Whether a rule is enabled is read from its
    column, here in the query, never from the document."""
    rows = session.execute(
        select(AutomationRule.id, cast(AutomationRule.definition, Text))
        .where(AutomationRule.workspace_id == workspace_id, col(AutomationRule.enabled))
        .order_by(col(AutomationRule.id)))
    return [(rule_id, _parsed(text)) for rule_id, text in rows]


def sequence_rule_ids(session: Session, workspace_id: int) -> list[int]:
    """The rules whose action is a sequence (an unsubscribe stops their runs)."""
    return [row.id for row in list_rules(session, workspace_id)
            if row.id is not None and row.definition["action"]["kind"] == "sequence"]


def get(session: Session, workspace_id: int, rule_id: int) -> AutomationRule:
    row = session.get(AutomationRule, rule_id)
    if row is None or row.workspace_id != workspace_id:
        raise RuleNotFound(f"no rule with id {rule_id} in this workspace")
    return row


def create(settings: Settings, session: Session, workspace_id: int, doc: Any) -> AutomationRule:
    definition = checked(settings, doc)
    cap = settings.max_rules_per_workspace
    held = session.exec(select(func.count()).select_from(AutomationRule)
                        .where(AutomationRule.workspace_id == workspace_id)).one()
    if held >= cap:
        raise TooManyRules(f"this workspace has {held} rules, the most a workspace may have "
                           f"({cap}, REVSYNC_MAX_RULES_PER_WORKSPACE); delete one first")
    row = AutomationRule(workspace_id=workspace_id, name=definition.name,
                         enabled=definition.enabled, definition=stored_document(definition))
    return _save(session, row)


def replace(settings: Settings, session: Session, workspace_id: int, rule_id: int,
            doc: Any) -> AutomationRule:
    """The rule becomes this document (a whole rule, validated like a new one)."""
    row = get(session, workspace_id, rule_id)
    definition = checked(settings, doc)
    row.name, row.enabled = definition.name, definition.enabled
    row.definition, row.updated_at = stored_document(definition), utcnow()
    return _save(session, row)


def set_enabled(session: Session, workspace_id: int, rule_id: int, enabled: bool
                ) -> AutomationRule:
    row = get(session, workspace_id, rule_id)
    row.enabled, row.updated_at = enabled, utcnow()
    return _save(session, row)


def delete(session: Session, workspace_id: int, rule_id: int) -> None:
    session.delete(get(session, workspace_id, rule_id))
    session.commit()


def shown(row: AutomationRule) -> dict[str, Any]:
    """The rule as the API and the CLI show it."""
    return {"id": row.id, **row.definition, "enabled": row.enabled}


def _save(session: Session, row: AutomationRule) -> AutomationRule:
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise DuplicateRuleName(f"a rule named {row.name!r} exists in this workspace") from None
    session.refresh(row)
    return row
