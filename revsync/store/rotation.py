"""Re-encrypting every stored secret with the first of the deployment's keys, so the
others can then be dropped (`revsync secrets rotate`)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlmodel import col, select

from revsync.settings import Settings
from revsync.store import db, keystore, workspaces
from revsync.store.models import Workspace

BATCH = 200  # workspaces per transaction: a long rotation never holds the lock for long


@dataclass
class Rotated:
    rotated: int = 0  # re-encrypted with the first key
    current: int = 0  # already encrypted with it: left as they are
    connect_copies: int = 0  # stored keys of Connect workspaces, which are read without


def rotate(settings: Settings, batch: int = BATCH) -> Rotated:
    """Re-encrypt, in batches of workspaces each under its rows' lock, every secret not
    yet encrypted with the first key. Run again, it changes nothing. A Connect
    workspace's stored key, which nothing reads, becomes the empty one.

    A secret none of the keys decrypts stops it with KeyStoreError naming the workspace;
    the batches before are rotated and every key still reads them.
    """
    found = keystore.keys(settings)
    counts = Rotated()
    after = 0
    while True:
        with db.locked_session(settings.resolved_database_url) as session:
            rows = session.exec(select(Workspace).where(col(Workspace.id) > after)
                                .order_by(col(Workspace.id)).limit(batch)
                                .with_for_update()).all()
            if not rows:
                return counts
            for workspace in rows:
                _rotate(found, workspace, counts)
                session.add(workspace)
            session.commit()
        assert rows[-1].id is not None
        after = rows[-1].id


def _rotate(found: keystore.Keys, workspace: Workspace, counts: Rotated) -> None:
    def plain(kind: str, token: str) -> str:
        try:
            return found.every.decrypt(token.encode()).decode()
        except InvalidToken:
            raise keystore.undecryptable(found, kind, workspace.name) from None

    def renewed(kind: str, token: str) -> str:
        try:
            found.first.decrypt(token.encode())
            counts.current += 1
            return token
        except InvalidToken:
            counts.rotated += 1
            return found.first.encrypt(plain(kind, token).encode()).decode()

    stored = workspace.stripe_key_encrypted
    if workspace.stripe_account is not None and stored is not None and (
            plain(keystore.STRIPE_KEY, stored) != workspaces.CONNECT_KEY):
        workspace.stripe_key_encrypted = found.first.encrypt(
            workspaces.CONNECT_KEY.encode()).decode()
        counts.connect_copies += 1
    for kind, column in keystore.ENCRYPTED:
        value = getattr(workspace, column)
        if isinstance(value, list):
            setattr(workspace, column, [renewed(kind, token) for token in value])
        elif value is not None:
            setattr(workspace, column, renewed(kind, value))
