"""The default segments, created once per workspace when Stripe is first connected.

`Workspace.default_segments_created` records that it happened, so a default the user
deleted is never re-created and one they edited is left as it is. A default whose name
the user already took is skipped rather than renamed.
"""

from __future__ import annotations

from sqlmodel import Session, select

from revsync.store import workspaces
from revsync.store.models import Segment

DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("customers_low_mrr", "Customers (Low MRR)", "mrr < 50 AND tag = customer"),
    ("high_spenders", "High Spenders", "ltv > 500"),
    ("churned_high_spenders", "Churned High Spenders", "tag = churned AND ltv > 500"),
)


def ensure_default_segments(database_url: str, workspace_name: str) -> int:
    """Create the defaults unless done before; returns how many were created."""
    return workspaces.create_once(database_url, workspace_name, "default_segments_created",
                                  _create_missing)


def _create_missing(session: Session, workspace_id: int) -> int:
    taken = set(session.exec(select(Segment.name).where(Segment.workspace_id == workspace_id)))
    created = 0
    for key, name, expression in DEFAULTS:
        if name not in taken:
            session.add(Segment(workspace_id=workspace_id, name=name, expression=expression,
                                default_key=key))
            created += 1
    return created
