"""`Idempotency-Key` for the JSON API's batch routes: a retried request answers what
the first one did, and does nothing again.

The answer is stored (`api_idempotency_key`) in the transaction of the request's work,
so either both are committed or neither is: a retry after a crash either finds the
answer or does the work. Two requests with one key at the same time both work, one
commits, and the other's insert of the key fails (primary key), rolling its work back;
run again, it finds the answer. The body is compared by the SHA-256 of its validated,
key-sorted JSON: the same key with another body is refused, as a client bug. Keys are
kept `KEEP`; older ones of the workspace are deleted as new ones come.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import delete
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse

from revsync.store.models import IdempotencyKey, utcnow
from revsync.web.errors import HttpError

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"  # set on an answer that a stored key gave
KEEP = timedelta(hours=24)
MAX_KEY = 255


@dataclass(frozen=True)
class Keyed:
    """A request's key, the route it was sent to, and its body's fingerprint."""

    key: str
    route: str
    fingerprint: str


def of(request: Request, route: str, body: BaseModel) -> Keyed | None:
    """The request's key, if it sent one (1-255 visible ASCII characters, else 422)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY or not all(33 <= ord(c) <= 126 for c in key):
        raise HttpError(422, f"{HEADER} must be 1-{MAX_KEY} visible ASCII characters")
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return Keyed(key, route, hashlib.sha256(canonical).hexdigest())


def replay(session: Session, workspace_id: int, sent: Keyed) -> JSONResponse | None:
    """The stored answer for this key and body; None when the key is new (or expired);
    a 422 when the key came with another body or to another route."""
    session.execute(delete(IdempotencyKey).where(
        col(IdempotencyKey.workspace_id) == workspace_id,
        col(IdempotencyKey.created_at) < utcnow() - KEEP))
    row = session.get(IdempotencyKey, (workspace_id, sent.key))
    if row is None:
        return None
    if (row.route, row.body_sha256) != (sent.route, sent.fingerprint):
        raise HttpError(422, f"this {HEADER} was used with another request body; "
                             "a new request needs a new key")
    return JSONResponse(row.response, status_code=row.status, headers={REPLAYED: "true"})


def remember(session: Session, workspace_id: int, sent: Keyed, status: int,
             answer: dict[str, Any]) -> None:
    """Store the answer in the work's transaction; the caller commits."""
    session.add(IdempotencyKey(workspace_id=workspace_id, key=sent.key, route=sent.route,
                               body_sha256=sent.fingerprint, status=status, response=answer))
