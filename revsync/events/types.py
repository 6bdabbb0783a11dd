"""What crosses the boundary of an event workflow: ids and counts, never payloads.

A webhook payload carries emails and names; only the ids needed to refetch the
objects enter Temporal. Plain dataclasses, importable inside the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EVENT_WINDOW_SECONDS = 30 * 24 * 3600  # the Events API keeps 30 days


def event_workflow_id(workspace_name: str, event_id: str) -> str:
    """One workflow per (workspace, event): a redelivery finds it instead of a new run."""
    return f"stripe-event/{workspace_name}/{event_id}"


@dataclass(frozen=True)
class Target:
    """One Stripe object an event asks us to refetch: mirror stream and object id."""

    stream: str  # customers | subscriptions | charges | invoices
    id: str


@dataclass
class EventInput:
    """A verified Stripe event, reduced to what the workflow needs."""

    workspace_id: int
    event_id: str
    event_type: str
    created: int
    targets: list[Target] = field(default_factory=list)
    stripe_task_queue: str = "revsync-stripe-events"


@dataclass
class Refetched:
    """Customers whose subscriber may have changed, and what the refetch cost."""

    customer_ids: list[str] = field(default_factory=list)
    requests: int = 0


@dataclass
class ApplyInput:
    workspace_id: int
    event_id: str
    event_type: str
    created: int
    targets: list[Target]
    customer_ids: list[str]


@dataclass
class EventResult:
    """The event's outcome: applied, already_applied or not_watched; counts only."""

    outcome: str
    subscribers: int = 0
    transitions: int = 0
    to_hand_over: int = 0  # of the transitions, those some rule acts on
    requests: int = 0


@dataclass
class CatchUpInput:
    """Replay events created at or after `since` (unix seconds) that were missed."""

    workspace_id: int
    workspace_name: str
    since: int
    cursor: str | None = None
    pages: int = 0
    events: int = 0
    started: int = 0
    failed: int = 0
    stripe_events_task_queue: str = "revsync-stripe-events"


@dataclass
class CatchUpResult:
    pages: int
    events: int
    started: int
    failed: int = 0


@dataclass
class EventPage:
    """One page of the Events API, reduced to what starting event workflows needs."""

    events: list[EventInput]
    cursor: str | None
    has_more: bool
    requests: int
