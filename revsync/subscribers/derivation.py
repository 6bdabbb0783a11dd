"""Derive subscribers' Stripe-managed attributes from the mirror: the one entry point.

The full sync, a webhook event and a re-derivation after an option change all come
here: `inputs_for` reads the workspace's policy and catalogue once, `derive` re-derives
subscribers the caller has locked (reading their customers from the mirror, applying
the revenue definitions of `revsync.revenue`, writing what changed and recording
transitions). The caller commits, so a derivation commits together with whatever it belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from revsync.automations import dispatch
from revsync.revenue import (
    Catalogue,
    CustomerFacts,
    Derived,
    RevenueError,
    RevenuePolicy,
    derive_subscriber,
)
from revsync.store import workspaces
from revsync.store.models import Subscriber
from revsync.subscribers import changes, facts
from revsync.subscribers.changes import Transition
from revsync.sync.types import DeriveCounts


@dataclass(frozen=True)
class DerivationInputs:
    """What deriving reads besides a subscriber's customers, the workspace's revenue policy
    and the product catalogue: read once per transaction."""

    workspace_id: int
    policy: RevenuePolicy
    catalogue: Catalogue | None  # None: each batch reads the entries its customers use


@dataclass
class Derivation:
    """What one `derive` call did."""

    counts: DeriveCounts = field(default_factory=DeriveCounts)
    transitions: list[Transition] = field(default_factory=list)
    subscriber_ids: set[int] = field(default_factory=set)
    to_hand_over: int = 0  # transitions recorded for the automations to act on


def inputs_for(session: Session, workspace_id: int, whole_catalogue: bool = True
               ) -> DerivationInputs:
    """The workspace's policy (a malformed option raises `WorkspaceError`) and catalogue.

    A full sync reads the whole catalogue once for many batches; an event, which derives
    a few subscribers, reads only the prices and coupons they refer to
    (`whole_catalogue=False`).
    """
    policy = workspaces.policy(workspaces.by_id(session, workspace_id))
    catalogue = facts.load_catalogue(session, workspace_id) if whole_catalogue else None
    return DerivationInputs(workspace_id, policy, catalogue)


def derive(
    session: Session,
    inputs: DerivationInputs,
    subscribers: Sequence[Subscriber],
    now: int,
    source_id: str,
    fire: bool = True,
    follow_displaced: bool = False,
) -> Derivation:
    """Re-derive subscribers the caller has locked; the caller commits.

    The transitions are recorded under `source_id` (an event id, a sync run, a subscriber
    write) as change-feed entries; with `fire=False` they start no automation. With
    `follow_displaced`, a subscriber that took over a customer (an email change) makes
    its previous holder be derived too, in the same transaction, until no one is
    displaced; a full sync does not need it, as every subscriber gets its own turn.
    """
    done = Derivation()
    while subscribers:
        displaced: set[int] = set()
        _derive_locked(session, inputs, subscribers, now, done, displaced)
        done.subscriber_ids |= {s.id for s in subscribers if s.id is not None}
        subscribers = (lock_by_id(session, inputs.workspace_id, displaced - done.subscriber_ids)
                       if follow_displaced else [])
    asks = (dispatch.asks_rules(session, inputs.workspace_id)
            if fire and done.transitions else None)
    done.to_hand_over = changes.record_transitions(session, inputs.workspace_id, source_id,
                                                   done.transitions, fire, asks)
    return done


def derive_next_batch(
    session: Session, inputs: DerivationInputs, after_id: int, batch_size: int, now: int,
    source_id: str, fire: bool,
) -> tuple[int, bool, Derivation]:
    """Lock and derive the next `batch_size` subscribers after `after_id`; the caller
    commits (with its own progress record, see `derive_checkpoints`).

    Returns the last subscriber id, whether the workspace is done, and what changed.
    """
    subscribers = session.exec(
        select(Subscriber)
        .where(Subscriber.workspace_id == inputs.workspace_id, col(Subscriber.id) > after_id)
        .order_by(col(Subscriber.id))
        .limit(batch_size)
        .with_for_update()
    ).all()
    done = derive(session, inputs, subscribers, now, source_id, fire)
    if not subscribers:
        return after_id, True, done
    last = subscribers[-1].id
    assert last is not None
    return last, len(subscribers) < batch_size, done


def lock_by_id(
    session: Session, workspace_id: int, subscriber_ids: set[int]
) -> Sequence[Subscriber]:
    """These subscribers, locked in id order (so concurrent writers never deadlock)."""
    if not subscriber_ids:
        return []
    return session.exec(
        select(Subscriber)
        .where(Subscriber.workspace_id == workspace_id, col(Subscriber.id).in_(subscriber_ids))
        .order_by(col(Subscriber.id))
        .with_for_update()
    ).all()


def _derive_locked(
    session: Session,
    inputs: DerivationInputs,
    subscribers: Sequence[Subscriber],
    now: int,
    done: Derivation,
    displaced: set[int],
) -> None:
    ids = [s.id for s in subscribers if s.id is not None]
    known = facts.load_facts(session, inputs.workspace_id, [s.email_norm for s in subscribers],
                             bool(inputs.policy.products))
    old_tags = changes.stripe_tags(session, ids)
    catalogue = inputs.catalogue
    if catalogue is None:
        catalogue = facts.catalogue_for(session, inputs.workspace_id,
                                        (fact for found in known.values() for fact in found))
    outcomes: list[changes.Outcome] = []
    for subscriber in subscribers:
        assert subscriber.id is not None
        mine = known.get(subscriber.email_norm, [])
        try:
            derived = derive_subscriber(mine, catalogue, inputs.policy, now)
        except RevenueError as error:
            raise RevenueError(f"subscriber {subscriber.id}: {error}") from None
        _count(done.counts, mine, derived)
        outcomes.append(changes.Outcome(subscriber, derived,
                                        old_tags.get(subscriber.id, frozenset())))
    eligible = {o.subscriber.id: o.derived.eligible for o in outcomes}
    transitions, taken_from = changes.write_all(session, inputs.workspace_id, outcomes)
    displaced |= taken_from
    done.transitions += transitions
    done.counts.subscribers_changed += len(transitions)
    done.counts.subscribers_cleared += sum(not eligible[t.subscriber_id] for t in transitions)


def _count(counts: DeriveCounts, customers: Sequence[CustomerFacts], derived: Derived) -> None:
    counts.subscribers_seen += 1
    counts.customers_matched += len(customers)
    counts.customers_eligible += len(derived.eligible_customer_ids)
    for reason, n in derived.skipped.items():
        counts.skipped[reason] = counts.skipped.get(reason, 0) + n
    for currency, n in derived.unconverted.items():
        counts.unconverted[currency] = counts.unconverted.get(currency, 0) + n
    if not derived.eligible:
        return
    counts.subscribers_matched += 1
    counts.mrr_total += derived.mrr or 0
    counts.ltv_total += derived.ltv or 0
    for tag in derived.tags:
        counts.tags[tag] = counts.tags.get(tag, 0) + 1
