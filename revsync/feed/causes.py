"""What a change-feed entry was caused by, from the source id it was recorded under.

Source ids group the transitions of one cause (automations are dispatched per source):
a Stripe event's id, `sync/<run>`, `rederive/<workflow run>` after an option change, and
`subscriber/<unique>` for a subscriber written through the API or an import (its first
match, or a new address).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

SYNC = "sync"
STRIPE_EVENT = "stripe_event"
REDERIVE = "rederive"
SUBSCRIBER = "subscriber"


@dataclass(frozen=True)
class Cause:
    kind: str  # one of the four above
    id: str  # the event id, the sync run id, or the source id itself


def sync_source(sync_run_id: int) -> str:
    return f"{SYNC}/{sync_run_id}"


def rederive_source(run_id: str) -> str:
    return f"{REDERIVE}/{run_id}"


def subscriber_source() -> str:
    """A new id for one write of subscribers (each source id is recorded once per
    subscriber)."""
    return f"{SUBSCRIBER}/{uuid.uuid4().hex}"


def cause_of(source_id: str) -> Cause:
    kind, _, rest = source_id.partition("/")
    if kind == SYNC:
        return Cause(SYNC, rest)
    if kind in (REDERIVE, SUBSCRIBER):
        return Cause(kind, source_id)
    return Cause(STRIPE_EVENT, source_id)
