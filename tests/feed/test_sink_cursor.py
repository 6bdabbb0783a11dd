"""What the sink's read stores: the acknowledged position only grows, and a read hands
over what comes after it, of its own workspace only. SQLite and PostgreSQL."""

from __future__ import annotations

from revsync.feed import sink
from revsync.feed.sink import FROM_STORED, SinkRead
from revsync.settings import Settings
from revsync.store import db, workspaces
from tests.feed.test_feed_api import record, subscriber


def read(settings: Settings, workspace_id: int, acknowledged: int, limit: int = 10
         ) -> tuple[list[int], int]:
    with db.session(settings.resolved_database_url) as session:
        page = sink.next_batch(session, SinkRead(workspace_id, acknowledged, limit))
        session.commit()
    return [c.position for c in page.batch.changes], page.acknowledged


def test_the_acknowledged_position_only_grows(settings: Settings) -> None:
    db.migrate(settings.resolved_database_url)
    ann = subscriber(settings, "alpha", "ann@example.com", None)
    bob = subscriber(settings, "beta", "bob@example.com", None)
    for n in range(3):
        record(settings, "alpha", f"evt_{n}", ann, f"{n + 1}0.00")
    record(settings, "beta", "evt_b", bob, "5.00")
    with db.session(settings.resolved_database_url) as session:
        alpha = workspaces.by_name(session, "alpha").id or 0
    everything, stored = read(settings, alpha, FROM_STORED)
    assert len(everything) == 3 and stored == 0  # nothing acknowledged yet; beta's not here
    first, second, third = everything
    assert read(settings, alpha, second, limit=1) == ([third], second)
    # A late retry of an older read acknowledges less: the stored position stays.
    assert read(settings, alpha, first) == ([third], second)
    assert read(settings, alpha, FROM_STORED) == ([third], second)
    assert read(settings, alpha, third) == ([], third)
