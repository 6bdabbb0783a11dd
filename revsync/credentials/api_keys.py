"""A workspace's JSON API keys: mint (the secret is returned once), list, revoke, and
find the key a request presents.

A `read` key may only read (GET); a `write` key may do what the platform key does for
its one workspace, except mint or revoke keys and embed links. A key is looked up in
the database on every request, so a revoked key is refused at once; its `last_used_at`
is written at most once a minute, so a busy key does not cost a write per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from revsync.credentials.secrets_hash import digest, new_api_key
from revsync.store.models import ApiKey, Workspace
from revsync.store.timestamps import as_utc

READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)
MAX_NAME = 100
LAST_USED_EVERY = timedelta(minutes=1)


class ApiKeyError(Exception):
    """A name or scope that cannot be stored."""


class UnknownApiKey(ApiKeyError):
    """A key id the workspace does not have."""


@dataclass(frozen=True)
class Holder:
    """The key a request presented: whose it is and what it may do."""

    key_id: int
    workspace: str
    scope: str
    revoked: bool


def create(session: Session, workspace_id: int, name: str, scope: str,
           now: datetime) -> tuple[ApiKey, str]:
    """A new key and its secret, which is never stored nor shown again."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"a key's name must be 1 to {MAX_NAME} characters")
    if scope not in SCOPES:
        raise ApiKeyError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    prefix, secret = new_api_key()
    key = ApiKey(workspace_id=workspace_id, name=name, scope=scope, prefix=prefix,
                 secret_hash=digest(secret), created_at=now)
    session.add(key)
    session.commit()
    return key, secret


def listed(session: Session, workspace_id: int) -> list[ApiKey]:
    """Every key of the workspace, revoked ones included, oldest first."""
    return list(session.exec(select(ApiKey).where(ApiKey.workspace_id == workspace_id)
                             .order_by(col(ApiKey.id))).all())


def revoke(session: Session, workspace_id: int, key_id: int, now: datetime) -> ApiKey:
    """Revoke the key (revoking it again keeps the first time)."""
    key = session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace_id:
        raise UnknownApiKey(f"no API key with id {key_id} in this workspace")
    if key.revoked_at is None:
        key.revoked_at = now
        session.add(key)
        session.commit()
    return key


def holder(session: Session, presented: str, now: datetime) -> Holder | None:
    """The key `presented` is, or None; a live key's use is recorded (once a minute)."""
    found = session.exec(
        select(ApiKey, Workspace.name).join(Workspace, col(Workspace.id) == ApiKey.workspace_id)
        .where(ApiKey.secret_hash == digest(presented))).first()
    if found is None:
        return None
    key, workspace = found
    assert key.id is not None
    if key.revoked_at is None and (key.last_used_at is None or
                                   as_utc(key.last_used_at) <= now - LAST_USED_EVERY):
        # Conditional, so processes racing on the same key write it once.
        session.execute(update(ApiKey).where(
            col(ApiKey.id) == key.id,
            or_(col(ApiKey.last_used_at).is_(None),
                col(ApiKey.last_used_at) <= now - LAST_USED_EVERY),
        ).values(last_used_at=now))
        session.commit()
    return Holder(key.id, workspace, key.scope, key.revoked_at is not None)


def public(key: ApiKey) -> dict[str, Any]:
    """What the API and the CLI show of a key: everything but its digest."""
    def moment(value: datetime | None) -> str | None:
        return None if value is None else as_utc(value).isoformat()
    return {"id": key.id, "name": key.name, "scope": key.scope, "prefix": key.prefix,
            "created_at": moment(key.created_at), "last_used_at": moment(key.last_used_at),
            "revoked_at": moment(key.revoked_at)}
