"""Embed links: the platform asks for one on behalf of one of its users, and the
browser that opens it is signed in to that workspace's settings page, once.

The token is stored as a digest beside its workspace, its user label and its expiry;
opening the link marks it consumed with one conditional UPDATE, so two processes (or
two clicks) racing on the same link sign in at most one browser.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from revsync.credentials.secrets_hash import digest, new_link_token
from revsync.store.models import EmbedSession

MAX_USER = 200


class EmbedError(Exception):
    """A user label that cannot be stored."""


def create_link(session: Session, workspace_id: int, user: str, minutes: int,
                now: datetime) -> tuple[str, datetime]:
    """(token, expires_at) of a new single-use link for `user`."""
    user = user.strip()
    if not user or len(user) > MAX_USER:
        raise EmbedError(f"user must be 1 to {MAX_USER} characters")
    token = new_link_token()
    expires_at = now + timedelta(minutes=minutes)
    session.add(EmbedSession(workspace_id=workspace_id, token_hash=digest(token), user=user,
                             created_at=now, expires_at=expires_at))
    session.commit()
    return token, expires_at


def consume(session: Session, workspace_id: int, token: str, now: datetime) -> str | None:
    """The link's user label if `token` is this workspace's, unused and unexpired (it is
    used from now on); else None, and nothing changes."""
    hashed = digest(token)
    result = session.execute(update(EmbedSession).where(
        col(EmbedSession.token_hash) == hashed,
        col(EmbedSession.workspace_id) == workspace_id,
        col(EmbedSession.consumed_at).is_(None),
        col(EmbedSession.expires_at) > now,
    ).values(consumed_at=now))
    session.commit()
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return None
    return session.exec(select(EmbedSession.user)
                        .where(EmbedSession.token_hash == hashed)).one()
