"""A subscriber's explanation, read from the mirror and the records (no Stripe request).

The revenue part is `parts.explain` over the subscriber's customers as the
derivation reads them now; the stored values are shown beside it (they differ only if
the mirror changed since the last derivation). Each recent transition lists what it asks
of the workspace's rules (the three defaults among them) with today's settings, what
stands in the way (already fired, unsubscribed), and what each rule's steps did for it
(sent, condition false, ...).
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from revsync.automations.definitions import rule_automation, rule_commands
from revsync.automations.dispatch import change_of, fired_before
from revsync.automations.rule_store import enabled_rules
from revsync.explain.parts import explain
from revsync.store import workspaces
from revsync.store.models import RuleOutcome, Subscriber, SubscriberTransition
from revsync.subscribers import changes, facts

TRANSITIONS_SHOWN = 20


class NoSuchSubscriber(LookupError):
    pass


def by_email(session: Session, workspace_id: int, email_norm: str) -> Subscriber:
    found = session.exec(select(Subscriber).where(Subscriber.workspace_id == workspace_id,
                                                  Subscriber.email_norm == email_norm)).first()
    if found is None:
        raise NoSuchSubscriber("no subscriber with that email in this workspace")
    return found


def report(session: Session, subscriber: Subscriber, now: int | None = None) -> dict[str, Any]:
    """The whole explanation as JSON-ready values (money as decimal strings)."""
    assert subscriber.id is not None
    now = int(time.time()) if now is None else now
    policy = workspaces.policy(workspaces.by_id(session, subscriber.workspace_id))
    known = facts.load_facts(session, subscriber.workspace_id, [subscriber.email_norm],
                             with_invoices=bool(policy.products)).get(subscriber.email_norm, [])
    catalogue = facts.catalogue_for(session, subscriber.workspace_id, known)
    revenue = explain(known, catalogue, policy, now)
    stored_tags = sorted(changes.stripe_tags(session, [subscriber.id]).get(subscriber.id, ()))
    return {
        "subscriber_id": subscriber.id,
        "stored": {"mrr": _money(subscriber.mrr), "ltv": _money(subscriber.ltv),
                   "tags": stored_tags},
        "derived_now": _plain(dataclasses.asdict(revenue)),
        "unsubscribed": subscriber.unsubscribed,
        "transitions": _transitions(session, subscriber),
    }


def _transitions(session: Session, subscriber: Subscriber) -> list[dict[str, Any]]:
    rows = session.exec(select(SubscriberTransition).where(
        SubscriberTransition.workspace_id == subscriber.workspace_id,
        SubscriberTransition.subscriber_id == subscriber.id)
        .order_by(col(SubscriberTransition.id).desc()).limit(TRANSITIONS_SHOWN)).all()
    rules = enabled_rules(session, subscriber.workspace_id)
    names = {rule_automation(rule_id): rule.name for rule_id, rule in rules}
    shown = []
    for row in rows:
        # Starting values fire nothing (they were recorded as handed over).
        asked = [] if row.silent else rule_commands(change_of(row), rules)
        shown.append({
            "id": row.id, "source": row.source_id, "at": row.created_at.isoformat(),
            "tags_added": row.tags_added, "tags_removed": row.tags_removed,
            "mrr": [_money(row.mrr_before), _money(row.mrr_after)],
            "ltv": [_money(row.ltv_before), _money(row.ltv_after)],
            "silent": row.silent, "dispatched": row.dispatched_at is not None,
            "fires": [{"automation": c.automation, "rule": names.get(c.automation, ""),
                       "action": c.action, "note": _note(session, subscriber, row, c)}
                      for c in asked],
            "rule_steps": [{"rule_id": o.rule_id, "step": o.step, "outcome": o.outcome,
                            "at": o.created_at.isoformat()}
                           for o in _outcomes(session, subscriber, row)],
        })
    return shown


def _outcomes(session: Session, subscriber: Subscriber, row: SubscriberTransition
              ) -> list[RuleOutcome]:
    """What the rule steps this transition started did (sent, condition false, ...)."""
    return list(session.exec(select(RuleOutcome).where(
        RuleOutcome.workspace_id == subscriber.workspace_id,
        RuleOutcome.transition_id == row.id, RuleOutcome.subscriber_id == subscriber.id)
        .order_by(col(RuleOutcome.id))))


def _note(session: Session, subscriber: Subscriber, row: SubscriberTransition,
          command: Any) -> str:
    if fired_before(session, subscriber.workspace_id, command, row.id):
        return "already fired for this subscriber before"
    if subscriber.unsubscribed and command.action == "start":
        return "unsubscribed: no email to the subscriber"
    if row.dispatched_at is None:
        return "not handed over yet"
    return "handed over"


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _plain(value: Any) -> Any:
    """Decimals and fractions as strings, recursively (JSON has no exact numbers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(
            value.numerator)
    return value
