"""One step of a workspace rule for one subscriber: check, then send one email once.

The rule is read afresh at every step, so turning it off or deleting it stops a running
sequence at its next step, and an edit applies from the next step on. Step 0 is the
moment the rule fires: its condition (a segment expression) is evaluated then, against
the subscriber's values at that moment. Later steps check the sequence's stop
condition first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from revsync.automations.actions import TEAM
from revsync.automations.definitions import Definition, rule_automation
from revsync.automations.emails import send_template
from revsync.automations.rule_store import definition_of
from revsync.automations.types import RuleStepInput, RuleStepResult
from revsync.segments import Expr, condition
from revsync.settings import Settings
from revsync.store.models import RevenueRule, Subscriber

DAY = 86_400


def run_step(settings: Settings, session: Session, request: RuleStepInput) -> RuleStepResult:
    row = session.get(RevenueRule, request.rule_id)
    if row is None or row.workspace_id != request.workspace_id:
        return RuleStepResult(False, "rule deleted")
    if not row.enabled:
        return RuleStepResult(False, "rule off")
    rule = definition_of(row)
    steps = rule.action.steps
    subscriber = session.get(Subscriber, request.subscriber_id)
    if subscriber is None or subscriber.workspace_id != request.workspace_id:
        return RuleStepResult(False, "no such subscriber")
    if request.step >= len(steps):
        return RuleStepResult(False, "the rule has fewer steps now")
    if request.step == 0 and rule.condition is not None and not holds(
            session, subscriber, rule.condition):
        return RuleStepResult(False, "condition false")
    stop = rule.action.stop_condition
    if request.step > 0 and stop is not None and holds(session, subscriber, stop):
        return RuleStepResult(False, "stop condition")
    step = steps[request.step]
    if step.to != TEAM and subscriber.unsubscribed:
        return RuleStepResult(False, "unsubscribed")
    recipients = _recipients(settings, rule) if step.to == TEAM else [subscriber.email]
    following = _after(rule, request.step + 1)
    if not recipients:
        return RuleStepResult(False, "no team address configured", following)
    key = (f"{rule_automation(request.rule_id)}/{request.subscriber_id}/"
           f"{request.transition_id}/{request.step}")
    sent = send_template(settings, session, subscriber, step.template, key, recipients,
                         request.transition_id)
    return RuleStepResult(sent.sent, sent.reason, following)


def holds(session: Session, subscriber: Subscriber, expr: Expr) -> bool:
    """Whether the subscriber is in the segment `expr` now."""
    where = condition(expr, datetime.now(UTC))
    found = session.execute(select(func.count()).select_from(Subscriber).where(
        Subscriber.id == subscriber.id, where)).scalar()  # type: ignore[arg-type]
    return bool(found)


def _recipients(settings: Settings, rule: Definition) -> list[str]:
    return list(rule.action.recipients) or [
        a.strip() for a in settings.team_alert_to.split(",") if a.strip()]


def _after(rule: Definition, step: int) -> int | None:
    """Seconds from now to `step`, or None when there is none."""
    steps = rule.action.steps
    return round(steps[step].after_days * DAY) if step < len(steps) else None
