"""Hand recorded transitions to the automations, at least once; sending is once.

A transition is marked dispatched only after its signals went out, so a crash in
between re-sends them: automation workflows ignore a transition id they have seen,
and every email has an idempotency key in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlmodel import Session, col, select

from revsync.automations.definitions import ONCE, rule_commands
from revsync.automations.rule_store import enabled_rules
from revsync.automations.triggers import Change
from revsync.automations.types import START, Command
from revsync.store.models import AutomationFire, SubscriberTransition, utcnow
from revsync.subscribers.changes import Transition


def pending(session: Session, workspace_id: int, source_id: str) -> list[SubscriberTransition]:
    return list(
        session.exec(
            select(SubscriberTransition)
            .where(
                SubscriberTransition.workspace_id == workspace_id,
                SubscriberTransition.source_id == source_id,
                col(SubscriberTransition.dispatched_at).is_(None),
            )
            .order_by(col(SubscriberTransition.id))
        ).all()
    )


def plan(session: Session, workspace_id: int, source_id: str) -> tuple[list[Command], list[int]]:
    """The commands for the source's undispatched transitions, and their ids."""
    rows = pending(session, workspace_id, source_id)
    rules = enabled_rules(session, workspace_id) if rows else []
    planned: list[Command] = []
    for row in rows:
        planned += [c for c in rule_commands(change_of(row), rules)
                    if not _fired(session, workspace_id, c)]
    return planned, [row.id for row in rows if row.id is not None]


def asks_rules(session: Session, workspace_id: int) -> Callable[[Transition], bool]:
    """Whether a transition about to be recorded asks anything of the workspace's enabled
    rules (a start or a stop). One that asks nothing is recorded as handed over already,
    so its source needs no hand-over at all, the common case for an event."""
    rules = enabled_rules(session, workspace_id)
    if not rules:
        return lambda _: False

    def asks(transition: Transition) -> bool:
        # The triggers read the change, never its id, which the insert has not given yet.
        return bool(rule_commands(_change(transition, transition_id=0), rules))

    return asks


def change_of(row: SubscriberTransition) -> Change:
    """The parts of a recorded transition the triggers read."""
    assert row.id is not None
    return _change(row, row.id)


def _change(source: SubscriberTransition | Transition, transition_id: int) -> Change:
    """A transition, recorded or about to be, as the triggers read it."""
    return Change(
        transition_id=transition_id,
        subscriber_id=source.subscriber_id,
        tags_added=frozenset(source.tags_added),
        tags_removed=frozenset(source.tags_removed),
        mrr_before=source.mrr_before,
        mrr_after=source.mrr_after,
        ltv_before=source.ltv_before,
        ltv_after=source.ltv_after,
        tags_after=None if source.tags_after is None else frozenset(source.tags_after),
    )


def fired_before(session: Session, workspace_id: int, command: Command,
                 transition_id: int | None) -> bool:
    """Whether a once-only start was recorded for another transition than this one."""
    if not _once(command):
        return False
    key = (workspace_id, command.automation, command.subscriber_id, command.key)
    fire = session.get(AutomationFire, key)
    return fire is not None and fire.transition_id != transition_id


def _once(command: Command) -> bool:
    """A rule with `once_per_subscriber` (the default thank-you) starts once per
    subscriber, ever."""
    return command.action == START and command.key == ONCE


def _fired(session: Session, workspace_id: int, command: Command) -> bool:
    if not _once(command):
        return False
    key = (workspace_id, command.automation, command.subscriber_id, command.key)
    return session.get(AutomationFire, key) is not None


def mark_dispatched(
    session: Session, workspace_id: int, sent: Sequence[Command], transition_ids: Sequence[int]
) -> None:
    for command in sent:
        if _once(command):
            key = (workspace_id, command.automation, command.subscriber_id, command.key)
            if session.get(AutomationFire, key) is None:
                session.add(
                    AutomationFire(
                        workspace_id=workspace_id,
                        automation=command.automation,
                        subscriber_id=command.subscriber_id,
                        key=command.key,
                        transition_id=command.transition_id,
                    )
                )
    if transition_ids:
        for row in session.exec(
            select(SubscriberTransition).where(col(SubscriberTransition.id).in_(transition_ids))
        ):
            row.dispatched_at = utcnow()
            session.add(row)
    session.commit()
