"""What crosses the workflow boundary: ids, cursors and counts, never keys or emails.

Plain dataclasses with stdlib types only, so workflow code can import them inside
Temporal's sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class StreamState:
    """Where one Stripe list stream stands; the cursor is the last object id read."""

    name: str
    cursor: str | None = None
    cursor_created: int | None = None
    pages: int = 0
    objects: int = 0
    requests: int = 0
    done: bool = False
    catalogue: bool = False
    malformed: int = 0  # objects Stripe returned without an id: not stored, counted
    # A partition lists only objects with created_gte <= created < created_lt.
    part: int = 0
    created_gte: int | None = None
    created_lt: int | None = None
    split_pages: int = 0  # `pages` when this partition was last split (or created)
    floor: int | None = None  # a lower bound of `created`, probed or estimated
    newest_created: int | None = None  # `created` of the first object read
    seconds: float = 0.0  # spent waiting on Stripe: with `requests`, the latency
    # Pages of nested lists (a subscription's items past 10, an invoice's lines) read to
    # complete the stream's objects: each is part of the minimum, as the list pages are.
    nested_pages: int = 0
    # Requests sent beyond the share of the budget the activities so far were paced for
    # (a page whose nested lists took more than the activity's allowance); the next
    # activities send that many fewer, so the account's rate holds on average.
    owed: int = 0

    @property
    def created_filter(self) -> dict[str, int]:
        bounds = {"gte": self.created_gte, "lt": self.created_lt}
        return {op: value for op, value in bounds.items() if value is not None}

    @property
    def key(self) -> str:
        """Unique within a sync: the checkpoint's key and the progress label."""
        return f"{self.name}#{self.part}" if self.part else self.name


@dataclass
class DeriveCounts:
    """Aggregates of the derivation phase, summed over batches."""

    subscribers_seen: int = 0
    subscribers_matched: int = 0
    subscribers_changed: int = 0
    subscribers_cleared: int = 0
    customers_matched: int = 0
    customers_eligible: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    unconverted: dict[str, int] = field(default_factory=dict)
    mrr_total: Decimal = Decimal("0")
    ltv_total: Decimal = Decimal("0")

    def add(self, other: DeriveCounts) -> None:
        """Fold a batch's counts into the running total."""
        self.subscribers_seen += other.subscribers_seen
        self.subscribers_matched += other.subscribers_matched
        self.subscribers_changed += other.subscribers_changed
        self.subscribers_cleared += other.subscribers_cleared
        self.customers_matched += other.customers_matched
        self.customers_eligible += other.customers_eligible
        for mine, theirs in (
            (self.skipped, other.skipped),
            (self.tags, other.tags),
            (self.unconverted, other.unconverted),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.mrr_total += other.mrr_total
        self.ltv_total += other.ltv_total


@dataclass
class SyncState:
    """Everything a full sync needs to resume; carried through continue-as-new."""

    sync_run_id: int
    listed_since: float
    now: int
    streams: list[StreamState]
    phase: str = "streams"  # streams -> sweep -> derive -> finish
    derive_cursor: int = 0
    derive: DeriveCounts = field(default_factory=DeriveCounts)
    continued: int = 0
    record_transitions: bool = False  # and hand them to the automations


@dataclass
class SyncInput:
    """Start a full sync of one workspace; `state` is set only by continue-as-new."""

    workspace_id: int
    stripe_task_queue: str = "revsync-stripe"
    derive_batch_size: int = 500
    derive_batches_per_activity: int = 4
    # A stream still going after this many pages is split into `partitions` created-time
    # ranges listed concurrently (1 = never split). The split costs a few probe requests,
    # so only long streams are split: the request count stays within 1.1x the minimum.
    split_after_pages: int = 150
    partitions: int = 4
    history_limit: int = 0  # continue-as-new past this many events; 0 = the default
    # The account's budget: with the latency seen, how many cursors keep it busy.
    requests_per_second: float = 10.0
    # Partitions of the Stripe task queue, each holding a share of that rate.
    queue_partitions: int = 4
    # Automations for what the sync changes. None: not on the workspace's first sync
    # (it would fire for all of history), yes on later ones.
    fire_automations: bool | None = None
    state: SyncState | None = None


@dataclass
class RunStarted:
    sync_run_id: int
    listed_since: float
    now: int
    streams: list[StreamState]
    first_sync: bool = False  # no earlier sync of the workspace completed


@dataclass
class FetchInput:
    """Fetch some pages of one stream; how many is the Stripe worker's setting, since its
    server-side activity rate is the budget divided by it."""

    workspace_id: int
    sync_run_id: int
    stream: StreamState


@dataclass
class PartitionInput:
    workspace_id: int
    stream: StreamState
    parts: int
    first_part: int
    sync_run_id: int = 0  # whose request ledger counts the search's requests (0: none)


@dataclass
class SweepInput:
    workspace_id: int
    sync_run_id: int
    listed_since: float
    streams: list[str]


@dataclass
class DeriveInput:
    workspace_id: int
    after_subscriber_id: int
    now: int
    batch_size: int
    max_batches: int
    source_id: str  # the change-feed entries' cause: a sync run, a re-derivation
    fire: bool  # whether the changes start automations (a first sync's do not)


@dataclass
class DeriveResult:
    last_subscriber_id: int
    done: bool
    counts: DeriveCounts


@dataclass
class FinishInput:
    sync_run_id: int
    streams: list[StreamState]
    derive: DeriveCounts
    error: str | None = None


@dataclass
class SyncReport:
    """The result and the progress query: counts only."""

    sync_run_id: int = 0
    phase: str = "starting"
    streams: list[StreamState] = field(default_factory=list)
    derive: DeriveCounts = field(default_factory=DeriveCounts)
    requests: int = 0
    min_requests: int = 0
    catalogue_requests: int = 0
    status: str = "running"
    customers: dict[str, int] = field(default_factory=dict)
    continued: int = 0


@dataclass
class StreamTotal:
    """One stream's listing summed over its created-range partitions."""

    name: str
    catalogue: bool = False
    objects: int = 0
    requests: int = 0
    malformed: int = 0
    nested_pages: int = 0
    parts: int = 0
    parts_done: int = 0

    @property
    def done(self) -> bool:
        return self.parts_done == self.parts


def stream_totals(streams: list[StreamState]) -> list[StreamTotal]:
    """The streams in the order they were first listed, their partitions added up: a
    stream is done when every one of its partitions is."""
    totals: dict[str, StreamTotal] = {}
    for s in streams:
        total = totals.setdefault(s.name, StreamTotal(s.name, s.catalogue))
        total.objects += s.objects
        total.requests += s.requests
        total.malformed += s.malformed
        total.nested_pages += s.nested_pages
        total.parts += 1
        total.parts_done += s.done
    return list(totals.values())


def min_requests(streams: list[StreamState]) -> int:
    """Fewest requests that read every object of the data streams: ceil(n/100) list pages
    each (partitions of one stream are counted together, as one listing would read them),
    plus the pages that complete the nested lists Stripe embeds only in part."""
    return sum(max(1, -(-t.objects // 100)) + t.nested_pages
               for t in stream_totals(streams) if not t.catalogue)
