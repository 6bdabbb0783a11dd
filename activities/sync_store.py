"""Database-only activities of a full sync: run records, sweep, derivation."""

from __future__ import annotations

from temporalio import activity

from revsync.activities.errors import permanent_errors
from revsync.activities.liveness import kept_alive, progress
from revsync.gateway.stripe_api import STREAMS, streams_needed
from revsync.settings import Settings
from revsync.store import db, mirror, workspaces
from revsync.subscribers import derivation, derive_checkpoints, facts
from revsync.sync import runs
from revsync.sync.types import (
    DeriveCounts,
    DeriveInput,
    DeriveResult,
    FinishInput,
    RunStarted,
    StreamState,
    SweepInput,
)


class SyncStoreActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    @activity.defn(name="revsync.start_run")
    @kept_alive
    def start_run(self, workspace_id: int) -> RunStarted:
        """Create (or find, on retry) the run record and list the streams this sync needs."""
        info = activity.info()
        with permanent_errors(), db.session(self.url) as session:
            workspace = workspaces.by_id(session, workspace_id)
            workspaces.gateway(self.settings, workspace)  # fail now if not connected
            run_key = f"{info.workflow_id}/{info.workflow_run_id}"
            assert info.workflow_id is not None
            run = runs.start(session, workspace_id, info.workflow_id, run_key)
            derive_checkpoints.prune(session)  # once per sync, not per derive activity
            session.commit()
            assert run.id is not None
            first_sync = not runs.completed_before(session, workspace_id, run.id)
            names = streams_needed(bool(workspace.products))
        started = run.started_at.timestamp()
        return RunStarted(
            sync_run_id=run.id,
            listed_since=started,
            now=int(started),
            streams=[StreamState(name=n, catalogue=STREAMS[n].catalogue) for n in names],
            first_sync=first_sync,
        )

    @activity.defn(name="revsync.sweep_mirror")
    @kept_alive
    def sweep_mirror(self, request: SweepInput) -> dict[str, int]:
        """Forget objects a complete listing no longer returned (deleted in Stripe)."""
        with db.session(self.url) as session:
            removed = {
                name: mirror.sweep(session, name, request.workspace_id, request.sync_run_id,
                                   request.listed_since)
                for name in request.streams
            }
            session.commit()
        return removed

    @activity.defn(name="revsync.derive_subscribers")
    @kept_alive
    def derive_subscribers(self, request: DeriveInput) -> DeriveResult:
        """Derive a few batches of subscribers, each committed with this activity's progress,
        so a retry resumes after the last committed batch with its counts."""
        info = activity.info()
        key = f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
        # Locked like a webhook event's derivation, so the two never interleave.
        with permanent_errors(), db.locked_session(self.url) as session:
            rules = derivation.rules_for(session, request.workspace_id)
            cursor, done, total = request.after_subscriber_id, False, DeriveCounts()
            for _ in range(request.max_batches):
                # Each batch's transaction starts from the committed progress, read locked,
                # so no attempt ever works from a stale cursor.
                saved = derive_checkpoints.claim(session, key, info.attempt)
                if saved is not None:
                    cursor, done, total = saved.cursor, saved.done, saved.counts
                if done:
                    break
                cursor, done, batch = derivation.derive_next_batch(
                    session, rules, cursor, request.batch_size, request.now,
                    request.transitions_source or None,
                )
                total.add(batch.counts)
                derive_checkpoints.save(session, key, info.attempt, cursor, done, total)
                session.commit()
                progress(cursor)
            session.commit()
        return DeriveResult(last_subscriber_id=cursor, done=done, counts=total)

    @activity.defn(name="revsync.finish_run")
    @kept_alive
    def finish_run(self, request: FinishInput) -> dict[str, int]:
        """Write the run's outcome and return the customer report."""
        with db.session(self.url) as session:
            run = runs.get(session, request.sync_run_id)
            report = facts.customer_report(session, run.workspace_id)
            runs.finish(session, request, report)
        return report
