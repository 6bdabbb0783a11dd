"""Settings-page sessions, kept on the server.

The cookie is signed, but a signed cookie alone stays valid wherever it is copied until
it expires: signing out would only forget it in the one browser. So the cookie carries a
random id, the row here holds its SHA-256, whose workspace it opens and until when, and
every request with a session is checked against the row (`web.page_access`). Signing
out ends the row; a copied cookie is refused from then on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from revsync.credentials.secrets_hash import digest, new_link_token
from revsync.store.models import EmbedSession, PageSession


def start(session: Session, access: str, user: str, now: datetime,
          lifetime: timedelta) -> str:
    """A new session's id (for the cookie); the caller's transaction is committed.

    Sign-ins are rare next to page views, so each one also forgets the sessions and
    embed links that ended a day ago or more: neither table grows with time."""
    forgotten = now - timedelta(days=1)
    session.execute(delete(PageSession).where(col(PageSession.expires_at) < forgotten))
    session.execute(delete(EmbedSession).where(col(EmbedSession.expires_at) < forgotten))
    sid = new_link_token()
    session.add(PageSession(sid_hash=digest(sid), access=access, user=user, created_at=now,
                            expires_at=now + lifetime))
    session.commit()
    return sid


def opens(session: Session, sid: str, now: datetime) -> str | None:
    """What a live session opens (a workspace name, or * for every workspace); None
    when it was ended, has expired or never existed."""
    return session.exec(select(PageSession.access).where(
        PageSession.sid_hash == digest(sid), col(PageSession.ended_at).is_(None),
        col(PageSession.expires_at) > now)).first()


def end(session: Session, sid: str, now: datetime) -> None:
    session.execute(update(PageSession).where(
        col(PageSession.sid_hash) == digest(sid), col(PageSession.ended_at).is_(None),
    ).values(ended_at=now))
    session.commit()
