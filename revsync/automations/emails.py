"""The one email an automation step sends: whom to, what it says, once."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from revsync.automations import mailer
from revsync.automations.store import rules_for
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
        recipients = list(rule.config.get("recipients") or []) or [
            a.strip() for a in settings.team_alert_to.split(",") if a.strip()
        ]
        if not recipients:
            return EmailResult(False, "no team address configured")
    else:
        recipients = [subscriber.email]
    transition = (
        session.get(SubscriberTransition, request.transition_id)
        if request.transition_id is not None
        else None
    )
    variables = {
        **subscriber.attributes,
        **subscriber.stripe_metadata,
        "email": subscriber.email,
        "mrr": _money(subscriber.mrr),
        "ltv": _money(subscriber.ltv),
        "mrr_before": _money(transition.mrr_before if transition else None),
        "stripe_customer_ids": ", ".join(subscriber.stripe_customer_ids) or "(none)",
    }
    if request.automation == THANK_YOU:
        variables["threshold"] = _money(rule.threshold)
    message = mailer.render(settings, request.template, variables)
    row = mailer.enqueue(session, request.workspace_id, request.idempotency_key, recipients,
                         message)
    if row.status == "sent":
        return EmailResult(False, "already sent")
    delivered = mailer.deliver(settings, session, row)
    return EmailResult(True, "sent" if delivered else "queued in the outbox")


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
