"""The outbox: written before sending, so a retried activity never sends twice."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from revsync.automations import mailer
from revsync.automations.types import EmailResult
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, Workspace
from tests.automations.conftest import Inbox


def subscriber(settings: Settings, **fields: object) -> tuple[int, int]:
    with db.session(settings.resolved_database_url) as session:
        workspace = Workspace(name="mail")
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        row = Subscriber(workspace_id=workspace.id, email="Ann@Example.com",
                         email_norm="ann@example.com", mrr=D("12.50"), ltv=D("1234.5"),
                         attributes={"first_name": "Ann"}, **fields)  # type: ignore[arg-type]
        session.add(row)
        session.commit()
        assert row.id is not None
        return workspace.id, row.id


def send(settings: Settings, ws: int, sub: int, key: str) -> EmailResult:
    """The thank-you template to the subscriber, as the default thank-you rule sends it."""
    with db.session(settings.resolved_database_url) as session:
        row = session.get(Subscriber, sub)
        assert row is not None and row.workspace_id == ws
        return mailer.send_template(settings, session, row, "thank_you", key, [row.email],
                                    extra={"threshold": "1,000.00"})


def test_a_retried_send_finds_the_message_sent(mail_settings: Settings,
                                               smtp: tuple[Inbox, int]) -> None:
    ws, ann = subscriber(mail_settings)
    assert send(mail_settings, ws, ann, "thank_you/1/ltv>=1000") == EmailResult(True, "sent")
    assert send(mail_settings, ws, ann, "thank_you/1/ltv>=1000") == EmailResult(
        False, "already sent")
    [(to, message)] = smtp[0].messages
    assert to == ["Ann@Example.com"] and message["Subject"] == "Thank you"
    body = message.get_payload()
    assert isinstance(body, str) and "more than 1,000.00 with us (1,234.50 in total)" in body


def test_without_smtp_messages_wait_in_the_outbox(settings: Settings) -> None:
    ws, ann = subscriber(settings)
    assert send(settings, ws, ann, "k1") == EmailResult(True, "queued in the outbox")
    with db.session(settings.resolved_database_url) as session:
        [row] = mailer.outbox(session, ws)
    assert (row.recipients, row.subject, row.status) == (["Ann@Example.com"], "Thank you",
                                                         "pending")


def test_templates_can_be_overridden_and_must_have_a_subject(settings: Settings,
                                                              tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt").write_text("Subject: Thanks $first_name\nLTV $ltv\n")
    (tmp_path / "broken.txt").write_text("no subject line\n")
    custom = settings.model_copy(update={"templates_dir": tmp_path})
    rendered = mailer.render(custom, "thank_you", {"first_name": "Ann", "ltv": "5.00"})
    assert rendered == mailer.Rendered("Thanks Ann", "LTV 5.00\n")
    with pytest.raises(mailer.TemplateError, match="must start with a 'Subject:' line"):
        mailer.render(custom, "broken", {})
    with pytest.raises(mailer.TemplateError, match="no email template 'missing'"):
        mailer.render(custom, "missing", {})
