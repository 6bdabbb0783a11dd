"""The host platform's webhook target per workspace, and the log of every attempt.

The secret is stored Fernet-encrypted like Stripe keys (`keystore`); it is shown back
only as whether one is set. The URL is checked against the deployment's egress policy
(`revsync.egress`) when it is saved, so a refused one is a clear error here; each send
checks it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from revsync import egress
from revsync.settings import Settings
from revsync.store import keystore, workspaces
from revsync.store.models import OutboundDelivery

MAX_URL = 500
MIN_SECRET = 16


class OutboundError(ValueError):
    """The webhook settings are unusable; nothing was stored."""


@dataclass(frozen=True)
class Target:
    url: str
    secret: str


def configure(settings: Settings, session: Session, workspace_id: int, url: str | None,
              secret: str | None) -> None:
    """Set the URL and secret (both), or clear them (`url` None)."""
    workspace = workspaces.by_id(session, workspace_id)
    if url is None:
        workspace.outbound_webhook_url = None
        workspace.outbound_webhook_secret_encrypted = None
    else:
        if len(url) > MAX_URL:
            raise OutboundError(f"the webhook URL has at most {MAX_URL} characters")
        try:
            egress.check(egress.Policy.of(settings), url, settings.outbound_timeout_seconds)
        except egress.Refused as refused:
            raise OutboundError(f"the webhook URL {refused}") from None
        if secret is None or len(secret) < MIN_SECRET:
            raise OutboundError(f"the webhook secret has at least {MIN_SECRET} characters")
        workspace.outbound_webhook_url = url
        workspace.outbound_webhook_secret_encrypted = keystore.encrypt(settings, secret)
    session.add(workspace)
    session.commit()


def target(settings: Settings, session: Session, workspace_id: int) -> Target | None:
    workspace = workspaces.by_id(session, workspace_id)
    if not workspace.outbound_webhook_url or not workspace.outbound_webhook_secret_encrypted:
        return None
    return Target(workspace.outbound_webhook_url,
                  keystore.decrypt(settings, workspace.outbound_webhook_secret_encrypted))


def delivered(session: Session, workspace_id: int, key: str) -> bool:
    """Whether a delivery under this idempotency key already succeeded."""
    return session.exec(select(OutboundDelivery.id).where(
        OutboundDelivery.workspace_id == workspace_id, OutboundDelivery.key == key,
        col(OutboundDelivery.delivered))).first() is not None


def record(session: Session, delivery: OutboundDelivery) -> None:
    session.add(delivery)
    session.commit()


def deliveries(session: Session, workspace_id: int, limit: int = 50) -> list[OutboundDelivery]:
    """The newest attempts first."""
    return list(session.exec(select(OutboundDelivery)
                             .where(OutboundDelivery.workspace_id == workspace_id)
                             .order_by(col(OutboundDelivery.id).desc()).limit(limit)))
