"""What the workspaces hold encrypted, read back."""

from __future__ import annotations

from sqlmodel import col, select

from revsync.settings import Settings
from revsync.store import db, keystore
from revsync.store.models import Workspace


def stored_secrets(settings: Settings, names: tuple[str, ...] | None = None) -> list[str]:
    """Every encrypted value of the workspaces named (default: all), decrypted with the
    settings' keys, workspace by workspace."""
    with db.session(settings.resolved_database_url) as session:
        rows = session.exec(select(Workspace).order_by(col(Workspace.id))).all()
    return [keystore.decrypt(settings, token) for w in rows if names is None or w.name in names
            for token in (w.stripe_key_encrypted, *w.webhook_secrets_encrypted,
                          w.outbound_webhook_secret_encrypted) if token is not None]
