"""Where a derive activity got to, and what it counted, saved with each batch.

A derive activity commits a batch at a time but reports its counts to the workflow
only when it returns. Saving the cursor and the running counts in each batch's own
transaction lets a retry after a kill resume at the next batch with the counts of the
batches already done, instead of re-deriving them (which would find nothing left to
change and under-count `subscribers_changed`).

Each row names the attempt that wrote it. An attempt the server already gave up on (its
worker stalled past the heartbeat timeout) may still be running beside its retry; the
first time it sees a newer attempt's row it stops, so the two never count one batch
each (`Superseded`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col

from revsync.store.models import DeriveCheckpoint, utcnow
from revsync.sync.types import DeriveCounts

KEEP = timedelta(days=7)  # far longer than any retry; older rows are pruned


class Superseded(Exception):
    """A newer attempt of this activity has taken over; this one must stop."""


@dataclass
class Resumed:
    cursor: int
    done: bool
    counts: DeriveCounts


def claim(session: Session, key: str, attempt: int) -> Resumed | None:
    """This activity's saved progress (`key`: workflow id/run id/activity id), read and
    locked in the caller's transaction; `Superseded` if a newer attempt wrote it."""
    row = session.get(DeriveCheckpoint, key, with_for_update=True)
    if row is None:
        return None
    if row.attempt > attempt:
        raise Superseded(f"attempt {row.attempt} of {key} took over from attempt {attempt}")
    return Resumed(row.cursor, row.done, counts_from_json(row.counts))


def save(session: Session, key: str, attempt: int, cursor: int, done: bool,
         counts: DeriveCounts) -> None:
    """Record progress in the caller's transaction (the one holding the batch)."""
    row = session.get(DeriveCheckpoint, key) or DeriveCheckpoint(key=key)
    row.cursor, row.done, row.counts = cursor, done, counts_to_json(counts)
    row.attempt, row.updated_at = attempt, utcnow()
    session.add(row)


def prune(session: Session) -> None:
    """Forget progress rows no retry can still need (called when a sync starts)."""
    session.execute(delete(DeriveCheckpoint).where(
        col(DeriveCheckpoint.updated_at) < utcnow() - KEEP))


def counts_to_json(counts: DeriveCounts) -> dict[str, Any]:
    data = asdict(counts)
    data["mrr_total"], data["ltv_total"] = str(counts.mrr_total), str(counts.ltv_total)
    return data


def counts_from_json(data: dict[str, Any]) -> DeriveCounts:
    return DeriveCounts(**{**data, "mrr_total": Decimal(data.get("mrr_total", "0")),
                           "ltv_total": Decimal(data.get("ltv_total", "0"))})
