"""Dispatch planning against the database: marks, the default thank-you once ever, the
default rules turned off or tuned, a reactivation's stop for the win-back."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlmodel import col, select

from revsync.automations import dispatch
from revsync.automations.defaults import default_rule, ensure_default_rules, tune
from revsync.automations.definitions import ONCE, DefinitionError
from revsync.automations.types import KINDS, START, STOP, THANK_YOU, WIN_BACK, Command
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace
from revsync.subscribers import changes
from revsync.subscribers.changes import Transition
from tests.helpers.e2e import default_rule_name


def setup(settings: Settings) -> tuple[int, int]:
    """Workspace "d" with its default rules, and subscriber ann."""
    with db.session(settings.resolved_database_url) as session:
        workspace = Workspace(name="d")
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        ann = Subscriber(workspace_id=workspace.id, email="ann@x.io", email_norm="ann@x.io")
        session.add(ann)
        session.commit()
        assert ann.id is not None
        ids = workspace.id, ann.id
    assert ensure_default_rules(settings.resolved_database_url, "d") == 3
    return ids


def record(settings: Settings, ws: int, ann: int, source: str, ltv: tuple[str, str],
           added: list[str] | None = None, removed: list[str] | None = None) -> int:
    with db.session(settings.resolved_database_url) as session:
        row = SubscriberTransition(workspace_id=ws, subscriber_id=ann, source_id=source,
                                   tags_added=added or [], tags_removed=removed or [],
                                   ltv_before=D(ltv[0]), ltv_after=D(ltv[1]))
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def test_thank_you_is_planned_once_ever(settings: Settings) -> None:
    ws, ann = setup(settings)
    thanks = default_rule_name(settings, ws, THANK_YOU)
    first = record(settings, ws, ann, "evt_1", ("900", "1100"))
    with db.session(settings.resolved_database_url) as session:
        planned, ids = dispatch.plan(session, ws, "evt_1")
        assert planned == [Command(thanks, START, ann, first, ONCE)] and ids == [first]
        # A crash before the mark: planning again gives the same (the workflow dedupes).
        assert dispatch.plan(session, ws, "evt_1") == (planned, ids)
        dispatch.mark_dispatched(session, ws, planned, ids)
        assert dispatch.plan(session, ws, "evt_1") == ([], [])
    # A refund took LTV below 1000, a new payment crosses it again: no second thank-you.
    record(settings, ws, ann, "evt_2", ("1100", "900"))
    again = record(settings, ws, ann, "evt_3", ("900", "1200"))
    with db.session(settings.resolved_database_url) as session:
        assert dispatch.plan(session, ws, "evt_3") == ([], [again])


def test_a_default_turned_off_or_tuned_changes_what_is_planned(settings: Settings) -> None:
    ws, ann = setup(settings)
    churn = record(settings, ws, ann, "evt_1", ("100", "300"), added=["churned"])
    with db.session(settings.resolved_database_url) as session:
        tune(settings, session, ws, WIN_BACK, enabled=False)
        tune(settings, session, ws, THANK_YOU, threshold="250")
        assert dispatch.plan(session, ws, "evt_1")[0] == [
            Command(default_rule_name(settings, ws, THANK_YOU), START, ann, churn, ONCE)]
        with pytest.raises(DefinitionError, match="threshold is a number"):
            tune(settings, session, ws, THANK_YOU, threshold="x")
        stored = default_rule(session, ws, THANK_YOU).definition["trigger"]
        assert stored["threshold"] == "250"  # unchanged by the refused edit


def test_a_reactivation_stops_the_win_back(settings: Settings) -> None:
    ws, ann = setup(settings)
    back = record(settings, ws, ann, "evt_1", ("0", "0"), added=["customer"],
                  removed=["churned"])
    with db.session(settings.resolved_database_url) as session:
        assert dispatch.plan(session, ws, "evt_1")[0] == [
            Command(default_rule_name(settings, ws, WIN_BACK), STOP, ann, back, "stop trigger")]


def test_a_transition_no_rule_acts_on_is_recorded_handed_over(settings: Settings) -> None:
    """Only transitions some enabled rule starts or stops on wait for the hand-over, so
    an event that changes values no rule watches needs none."""
    ws, ann = setup(settings)
    with db.session(settings.resolved_database_url) as session:
        others = [Subscriber(workspace_id=ws, email=e, email_norm=e)
                  for e in ("ben@x.io", "cat@x.io")]
        session.add_all(others)
        session.commit()
        ben, cat = (s.id for s in others)
        assert ben is not None and cat is not None
    raised = Transition(ann, frozenset(), frozenset(), ltv_before=D("100"), ltv_after=D("200"))
    churned = Transition(ben, frozenset({"churned"}), frozenset({"customer"}),
                         tags_after=frozenset({"churned"}))
    back = Transition(cat, frozenset({"customer"}), frozenset({"churned"}),
                      tags_after=frozenset({"customer"}))
    with db.session(settings.resolved_database_url) as session:
        asks = dispatch.asks_rules(session, ws)
        waiting = changes.record_transitions(session, ws, "evt_9", [raised, churned, back],
                                             fire=True, asks_rules=asks)
        session.commit()
        rows = session.exec(select(SubscriberTransition)
                            .where(SubscriberTransition.source_id == "evt_9")
                            .order_by(col(SubscriberTransition.id))).all()
        assert waiting == 2
        ids = [row.id or 0 for row in rows]
        assert [row.dispatched_at is None for row in rows] == [False, True, True]
        assert [row.silent for row in rows] == [False, False, False]
        win_back = default_rule_name(settings, ws, WIN_BACK)
        assert dispatch.plan(session, ws, "evt_9") == (
            [Command(win_back, START, ben, ids[1], ""),
             Command(win_back, STOP, cat, ids[2], "stop trigger")],
            ids[1:])
        # Every rule off: nothing waits, and the feed still holds all three.
        for kind in KINDS:
            tune(settings, session, ws, kind, enabled=False)
        assert changes.record_transitions(session, ws, "evt_10", [raised, churned],
                                          asks_rules=dispatch.asks_rules(session, ws)) == 0
        session.commit()
        assert dispatch.plan(session, ws, "evt_10") == ([], [])
