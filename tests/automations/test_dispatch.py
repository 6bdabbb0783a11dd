"""Dispatch planning against the database: marks, the default thank-you once ever, the
default rules turned off or tuned, a reactivation's stop for the win-back."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from revsync.automations import dispatch
from revsync.automations.defaults import default_rule, ensure_default_rules, tune
from revsync.automations.definitions import ONCE, DefinitionError
from revsync.automations.types import START, STOP, THANK_YOU, WIN_BACK, Command
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace
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
