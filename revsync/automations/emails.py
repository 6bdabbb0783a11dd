"""The one email an automation step sends: whom to, what it says, once."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlmodel import Session

from revsync.automations import mailer
from revsync.automations.legacy import rules_for
from revsync.automations.triggers import Trigger
from revsync.automations.types import TEAM_ALERT, THANK_YOU, EmailInput, EmailResult
from revsync.settings import Settings
from revsync.store.models import Subscriber, SubscriberTransition


def send(settings: Settings, session: Session, request: EmailInput) -> EmailResult:
    subscriber = session.get(Subscriber, request.subscriber_id)
    if subscriber is None or subscriber.workspace_id != request.workspace_id:
        return EmailResult(False, "no such subscriber")
    if request.automation != TEAM_ALERT and subscriber.unsubscribed:
        return EmailResult(False, "unsubscribed")
    rule = rules_for(session, request.workspace_id)[request.automation]
    if request.automation == TEAM_ALERT:
        recipients = team_addresses(settings, rule.config.get("recipients") or [])
        if not recipients:
            return EmailResult(False, "no team address configured")
    else:
        recipients = [subscriber.email]
    extra = {"threshold": _money(rule.threshold)} if request.automation == THANK_YOU else {}
    return send_template(settings, session, subscriber, request.template,
                         request.idempotency_key, recipients, request.transition_id, extra)


def trigger_variables(trigger: Trigger) -> dict[str, str]:
    """`$threshold` for a rule's templates: the amount its trigger crosses (or the MRR it
    needs), as the thank-you template says "more than $threshold"."""
    amount = trigger.threshold if trigger.threshold is not None else trigger.mrr_at_least
    return {} if amount is None else {"threshold": _money(amount)}


def team_addresses(settings: Settings, configured: Sequence[str]) -> list[str]:
    """The addresses an automation gave, else the deployment's `REVSYNC_TEAM_ALERT_TO`."""
    return list(configured) or [a.strip() for a in settings.team_alert_to.split(",")
                                if a.strip()]


def send_template(settings: Settings, session: Session, subscriber: Subscriber, template: str,
                  key: str, recipients: list[str], transition_id: int | None = None,
                  extra: dict[str, str] | None = None) -> EmailResult:
    """Render `template` for the subscriber (and the transition's before values), write it
    to the outbox under `key`, and send it unless that key was sent before."""
    transition = (session.get(SubscriberTransition, transition_id)
                  if transition_id is not None else None)
    variables = {
        **subscriber.attributes,
        **subscriber.stripe_metadata,
        "email": subscriber.email,
        "mrr": _money(subscriber.mrr),
        "ltv": _money(subscriber.ltv),
        "mrr_before": _money(transition.mrr_before if transition else None),
        "ltv_before": _money(transition.ltv_before if transition else None),
        "stripe_customer_ids": ", ".join(subscriber.stripe_customer_ids) or "(none)",
        **(extra or {}),
    }
    message = mailer.render(settings, template, variables)
    row = mailer.enqueue(session, subscriber.workspace_id, key, recipients, message)
    if row.status == "sent":
        return EmailResult(False, "already sent")
    delivered = mailer.deliver(settings, session, row)
    return EmailResult(True, "sent" if delivered else "queued in the outbox")


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
