"""Email: templates rendered from subscriber attributes, the outbox, and SMTP.

Every message is written to the outbox under its idempotency key before it is sent,
and marked sent after; a retried activity finds it sent and sends nothing. (A crash
between the SMTP hand-off and the mark can still repeat one message; the Message-ID
is derived from the key, so receiving systems can drop the copy.)
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from string import Template

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from revsync.automations.types import EmailResult
from revsync.settings import Settings
from revsync.store.models import OutboxMessage, Subscriber, SubscriberTransition, utcnow

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"


class TemplateError(Exception):
    """A template file is missing or has no `Subject:` first line."""


class MailNotSent(Exception):
    """The SMTP server did not take the message. The message says what happened without
    an address: an activity's error is kept in Temporal's history and shown in its UI,
    outside the product's data, and smtplib's errors (and servers' replies) name the
    recipients."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(settings: Settings, name: str, variables: dict[str, str]) -> Rendered:
    """`name`.txt from the templates dir (else the packaged one); `$var` substitution."""
    for folder in (settings.templates_dir, PACKAGED_TEMPLATES):
        if folder is not None and (folder / f"{name}.txt").is_file():
            text = (folder / f"{name}.txt").read_text(encoding="utf-8")
            break
    else:
        raise TemplateError(f"no email template {name!r}")
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise TemplateError(f"template {name!r} must start with a 'Subject:' line")
    subject = Template(first.removeprefix("Subject:").strip()).safe_substitute(variables)
    return Rendered(" ".join(subject.split()), Template(body).safe_substitute(variables))


def enqueue(
    session: Session, workspace_id: int, key: str, recipients: list[str], message: Rendered
) -> OutboxMessage:
    """Insert the message unless its key exists; return the stored row either way."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutboxMessage.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["workspace_id", "idempotency_key"]
    )
    session.execute(
        statement,
        {
            "workspace_id": workspace_id,
            "idempotency_key": key,
            "recipients": recipients,
            "subject": message.subject,
            "body": message.body,
            "status": "pending",
            "created_at": utcnow(),
        },
    )
    session.commit()
    return session.exec(
        select(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.idempotency_key == key
        )
    ).one()


def outbox(session: Session, workspace_id: int, after_id: int = 0,
           limit: int = 100) -> list[OutboxMessage]:
    """Messages in the order they were written (the demo prints these)."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.workspace_id == workspace_id, col(OutboxMessage.id) > after_id)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()
    )


def deliver(settings: Settings, session: Session, row: OutboxMessage) -> bool:
    """Send a pending message over SMTP; False when no SMTP server is configured."""
    if row.status == "sent":
        return True
    if not settings.smtp_host:
        return False
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(row.recipients)
    message["Subject"] = row.subject
    digest = hashlib.sha256(f"{row.workspace_id}/{row.idempotency_key}".encode()).hexdigest()
    message["Message-ID"] = f"<{digest[:32]}@{settings.mail_from.split('@', 1)[1]}>"
    message.set_content(row.body)
    _send(settings, message)
    row.status, row.sent_at = "sent", utcnow()
    session.add(row)
    session.commit()
    return True


def _send(settings: Settings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server; `MailNotSent` (with no cause attached, as a
    cause travels into history too) when it is not taken."""
    try:
        _hand_over(settings, message)
    except smtplib.SMTPRecipientsRefused as refused:
        codes = sorted({str(code) for code, _ in refused.recipients.values()})
        raise MailNotSent(f"recipient refused ({', '.join(codes)})") from None
    except smtplib.SMTPSenderRefused as refused:
        raise MailNotSent(f"sender refused ({refused.smtp_code})") from None
    except smtplib.SMTPResponseException as failed:
        raise MailNotSent(f"SMTP server answered {failed.smtp_code}") from None
    except (smtplib.SMTPException, OSError):
        raise MailNotSent("SMTP connection failed") from None


def _hand_over(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


def template_names(settings: Settings) -> list[str]:
    """Every template `render` can find, by name (the templates dir's and the packaged)."""
    return sorted({path.stem for folder in (settings.templates_dir, PACKAGED_TEMPLATES)
                   if folder is not None and folder.is_dir() for path in folder.glob("*.txt")})


def template_exists(settings: Settings, name: str) -> bool:
    """Whether `render` would find the template (the templates dir, else the packaged)."""
    return any(folder is not None and (folder / f"{name}.txt").is_file()
               for folder in (settings.templates_dir, PACKAGED_TEMPLATES))


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
        "mrr": money(subscriber.mrr),
        "ltv": money(subscriber.ltv),
        "mrr_before": money(transition.mrr_before if transition else None),
        "ltv_before": money(transition.ltv_before if transition else None),
        "stripe_customer_ids": ", ".join(subscriber.stripe_customer_ids) or "(none)",
        **(extra or {}),
    }
    message = render(settings, template, variables)
    row = enqueue(session, subscriber.workspace_id, key, recipients, message)
    if row.status == "sent":
        return EmailResult(False, "already sent")
    delivered = deliver(settings, session, row)
    return EmailResult(True, "sent" if delivered else "queued in the outbox")


def money(value: Decimal | None) -> str:
    """An amount as templates show it: `1,234.50`, `-` for none."""
    return "-" if value is None else f"{value:,.2f}"
