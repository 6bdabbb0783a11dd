"""One step of a workspace rule for one subscriber: check, then send one email once.

The rule is read afresh at every step, so turning it off or deleting it stops a running
sequence at its next step, and an edit applies from the next step on. Step 0 is the
moment the rule fires: its condition (a segment expression) is evaluated then, against
the subscriber's values at that moment. Later steps check the sequence's stop
condition first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col
from sqlmodel import select as sqlselect

from revsync.automations import outbound, outbound_store
from revsync.automations.actions import HOST, TEAM
from revsync.automations.definitions import Definition, rule_automation
from revsync.automations.mailer import money, send_template
from revsync.automations.rule_store import definition_of
from revsync.automations.triggers import TIMERS, Trigger
from revsync.automations.types import RuleStepInput, RuleStepResult
from revsync.feed.entries import tags_before
from revsync.segments import Expr, condition
from revsync.segments.limits import time_limited
from revsync.settings import Settings
from revsync.store import workspaces
from revsync.store.models import (
    AutomationRule,
    OutboundDelivery,
    RuleOutcome,
    StripeSubscription,
    Subscriber,
    SubscriberTransition,
)
from revsync.subscribers import changes

DAY = 86_400


class WebhookNotDelivered(Exception):
    """The platform did not accept the webhook; the attempt is logged, Temporal retries."""


def run_step(settings: Settings, session: Session, request: RuleStepInput,
             attempt: int = 1) -> RuleStepResult:
    """Run the step, and record what it did (`explain` reads it per transition)."""
    result = _run_step(settings, session, request, attempt)
    session.add(RuleOutcome(workspace_id=request.workspace_id, rule_id=request.rule_id,
                            subscriber_id=request.subscriber_id,
                            transition_id=request.transition_id, step=request.step,
                            outcome=result.reason[:200]))
    session.commit()
    return result


def _run_step(settings: Settings, session: Session, request: RuleStepInput,
              attempt: int) -> RuleStepResult:
    row = session.get(AutomationRule, request.rule_id)
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
    if request.step == 0 and rule.trigger.kind in TIMERS:
        if not request.armed:
            return _arm(session, subscriber, rule)
        held = changes.stripe_tags(session, [request.subscriber_id])
        if "trial" not in held.get(request.subscriber_id, frozenset()):
            return RuleStepResult(False, "no longer on trial")
    if request.step == 0 and rule.condition is not None and not holds(
            session, subscriber, rule.condition):
        return RuleStepResult(False, "condition false")
    stop = rule.action.stop_condition
    if request.step > 0 and stop is not None and holds(session, subscriber, stop):
        return RuleStepResult(False, "stop condition")
    step = steps[request.step]
    following = _after(rule, request.step + 1)
    key = (f"{rule_automation(request.rule_id)}/{request.subscriber_id}/"
           f"{request.transition_id}/{request.step}")
    if step.to == HOST:
        return _webhook(settings, session, request, row.name, rule, key, attempt)
    if step.to != TEAM and subscriber.unsubscribed:
        return RuleStepResult(False, "unsubscribed")
    recipients = (team_addresses(settings, rule.action.recipients) if step.to == TEAM
                  else [subscriber.email])
    if not recipients:
        return RuleStepResult(False, "no team address configured", following)
    sent = send_template(settings, session, subscriber, step.template, key, recipients,
                         request.transition_id, trigger_variables(rule.trigger))
    return RuleStepResult(sent.sent, sent.reason, following)


def trigger_variables(trigger: Trigger) -> dict[str, str]:
    """`$threshold` for a rule's templates: the amount its trigger crosses (or the MRR it
    needs), as the thank-you template says "more than $threshold"."""
    amount = trigger.threshold if trigger.threshold is not None else trigger.mrr_at_least
    return {} if amount is None else {"threshold": money(amount)}


def team_addresses(settings: Settings, configured: Sequence[str]) -> list[str]:
    """The addresses a rule gave, else the deployment's `REVSYNC_TEAM_ALERT_TO`."""
    return list(configured) or [a.strip() for a in settings.team_alert_to.split(",")
                                if a.strip()]


def _webhook(settings: Settings, session: Session, request: RuleStepInput, rule_name: str,
             rule: Definition, key: str, attempt: int) -> RuleStepResult:
    """POST the transition to the platform once: a delivered key is never sent again."""
    log = OutboundDelivery(workspace_id=request.workspace_id, key=key, rule_id=request.rule_id,
                           subscriber_id=request.subscriber_id,
                           transition_id=request.transition_id, attempt=attempt)
    if outbound_store.delivered(session, request.workspace_id, key):
        return RuleStepResult(False, "already delivered")
    target = outbound_store.target(settings, session, request.workspace_id)
    transition = session.get(SubscriberTransition, request.transition_id)
    if target is None or transition is None:
        log.error = ("no webhook URL configured for this workspace" if target is None
                     else "the transition is gone")
        outbound_store.record(session, log)
        return RuleStepResult(False, log.error)
    payload = outbound.body(
        delivery_id=key, workspace=workspaces.by_id(session, request.workspace_id).name,
        subscriber_id=request.subscriber_id, rule_id=request.rule_id, rule_name=rule_name,
        trigger=rule.trigger.to_doc(), transition_id=request.transition_id,
        created=int(transition.created_at.timestamp()),
        before=outbound.values(transition.mrr_before, transition.ltv_before,
                               tags_before(transition)),
        after=outbound.values(transition.mrr_after, transition.ltv_after,
                              transition.tags_after))
    session.commit()  # no transaction held open across the POST
    answer = outbound.post(settings, target.url, target.secret, key, payload)
    log.status_code, log.error, log.delivered = answer.status, answer.error, answer.delivered
    outbound_store.record(session, log)
    if not answer.delivered:
        raise WebhookNotDelivered(answer.error)
    return RuleStepResult(False, "delivered")


def _arm(session: Session, subscriber: Subscriber, rule: Definition) -> RuleStepResult:
    """How long until `days` before the trial's end (its latest trialing subscription's
    `trial_end`, from the mirror); at once when that moment has passed but the trial has
    not ended."""
    assert rule.trigger.days is not None
    ends = trial_end(session, subscriber)
    now = time.time()
    if ends is None or ends <= now:
        return RuleStepResult(False, "no trial end ahead")
    wait = max(0, round(ends - rule.trigger.days * DAY - now))
    return RuleStepResult(False, f"armed: fires in {wait} s", wait, arming=True)


def trial_end(session: Session, subscriber: Subscriber) -> int | None:
    """The latest `trial_end` of the subscriber's trialing subscriptions in the mirror."""
    if not subscriber.stripe_customer_ids:
        return None
    rows = session.exec(sqlselect(StripeSubscription).where(
        StripeSubscription.workspace_id == subscriber.workspace_id,
        col(StripeSubscription.customer).in_(subscriber.stripe_customer_ids),
        StripeSubscription.status == "trialing")).all()
    ends = [r.data.get("trial_end") for r in rows]
    found = [e for e in ends if isinstance(e, int) and not isinstance(e, bool)]
    return max(found) if found else None


def holds(session: Session, subscriber: Subscriber, expr: Expr) -> bool:
    """Whether the subscriber is in the segment `expr` now."""
    where = condition(expr, datetime.now(UTC))
    with time_limited(session):
        found = session.execute(select(func.count()).select_from(Subscriber).where(
            Subscriber.id == subscriber.id, where)).scalar()  # type: ignore[arg-type]
    return bool(found)


def _after(rule: Definition, step: int) -> int | None:
    """Seconds from now to `step`, or None when there is none."""
    steps = rule.action.steps
    return round(steps[step].after_days * DAY) if step < len(steps) else None
