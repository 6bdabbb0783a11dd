"""A derive activity that dies after committing some of its batches: the retry resumes
after the last committed batch with that batch's counts, so the run's counts equal an
uninterrupted run's. The real activity, through Temporal's activity test environment,
on both databases."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import revsync.activities.full_sync as full_sync
from revsync.activities.full_sync import SyncStoreActivities
from revsync.settings import Settings
from revsync.store import db, mirror, workspaces
from revsync.subscribers import csv_import, derive_checkpoints
from revsync.sync.types import DeriveInput

PEOPLE = 6  # three batches of two


class WorkerDied(Exception):
    pass


def paying_people(settings: Settings) -> int:
    """Six subscribers, each with a customer who paid $10 once (LTV 10.00 each)."""
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.get_or_create(session, "retry")
        assert ws.id is not None
        csv_import.import_rows(session, ws.id, [(n, {"email": f"p{n}@x.io"})
                                                for n in range(PEOPLE)])
        mirror.upsert(session, "customers", ws.id,
                      [{"id": f"cus_{n}", "email": f"p{n}@x.io"} for n in range(PEOPLE)], 1.0)
        mirror.upsert(session, "charges", ws.id, [
            {"id": f"ch_{n}", "customer": f"cus_{n}", "status": "succeeded", "amount": 1000,
             "amount_captured": 1000, "amount_refunded": 0, "currency": "usd", "captured": True}
            for n in range(PEOPLE)], 1.0)
        session.commit()
        return ws.id


def test_a_retry_after_a_kill_mid_activity_keeps_the_counts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace_id = paying_people(settings)
    request = DeriveInput(workspace_id, after_subscriber_id=0, now=1_750_000_000,
                          batch_size=2, max_batches=3, source_id="sync/1", fire=False)
    activities = SyncStoreActivities(settings)
    env = ActivityEnvironment()
    committed = 0

    def dies_after_two_batches(*details: Any) -> None:
        nonlocal committed
        committed += 1  # reported after each batch's commit
        if committed == 2:
            raise WorkerDied

    monkeypatch.setattr(full_sync, "progress", dies_after_two_batches)
    with pytest.raises(WorkerDied):
        env.run(activities.derive_subscribers, request)
    monkeypatch.setattr(full_sync, "progress", lambda *details: None)

    retried = env.run(activities.derive_subscribers, request)  # same activity id: a retry

    counts = retried.counts
    assert (counts.subscribers_seen, counts.subscribers_changed) == (PEOPLE, PEOPLE)
    assert (counts.subscribers_matched, counts.ltv_total) == (PEOPLE, D("60.00"))
    assert counts.customers_eligible == PEOPLE


def test_a_stored_fx_rate_out_of_range_fails_at_once_saying_which(settings: Settings) -> None:
    """A rate stored before rates were bounded: no retry can fix it, so it is permanent."""
    workspace_id = paying_people(settings)
    with db.session(settings.resolved_database_url) as session:
        ws = workspaces.by_id(session, workspace_id)
        ws.fx_rates = {"eur": "1e999"}
        session.add(ws)
        session.commit()
    request = DeriveInput(workspace_id, after_subscriber_id=0, now=1_750_000_000,
                          batch_size=2, max_batches=3, source_id="sync/1", fire=False)
    with pytest.raises(ApplicationError) as info:
        ActivityEnvironment().run(SyncStoreActivities(settings).derive_subscribers, request)
    assert info.value.non_retryable
    assert "FX rate for 'eur'" in str(info.value) and "1e999" in str(info.value)


def test_an_attempt_the_server_gave_up_on_stops_once_its_retry_has_written(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalled attempt 1 wakes up after attempt 2 committed a batch: it stops rather than
    derive from its stale cursor (and attempt 2's counts stay exact)."""
    workspace_id = paying_people(settings)
    request = DeriveInput(workspace_id, after_subscriber_id=0, now=1_750_000_000,
                          batch_size=2, max_batches=1, source_id="sync/1", fire=False)
    activities = SyncStoreActivities(settings)
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2)
    first = retry.run(activities.derive_subscribers, request)
    assert first.counts.subscribers_changed == 2
    stalled = ActivityEnvironment()  # attempt 1, the same activity
    with pytest.raises(derive_checkpoints.Superseded):
        stalled.run(activities.derive_subscribers, request)
    resumed = retry.run(activities.derive_subscribers,
                        dataclasses.replace(request, max_batches=3))
    assert (resumed.counts.subscribers_seen, resumed.counts.subscribers_changed) == (6, 6)
