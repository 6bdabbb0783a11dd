"""Forget change-feed entries older than the retention.

A workspace's entries are pruned when its full sync starts: syncs recur for every
connected workspace, and a reader's cursor is refused by its own age (`entries.read`),
so a late prune never lets a reader skip anything.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from revsync.store.models import SubscriberTransition, utcnow


def prune(session: Session, workspace_id: int, retention: timedelta) -> int:
    """Delete the workspace's entries older than `retention`; how many went."""
    result = session.execute(delete(SubscriberTransition).where(
        col(SubscriberTransition.workspace_id) == workspace_id,
        col(SubscriberTransition.created_at) < utcnow() - retention))
    return int(result.rowcount)  # type: ignore[attr-defined]
