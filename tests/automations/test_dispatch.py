"""Dispatch planning against the database: marks, once-per-threshold, disabled rules."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from revsync.automations import dispatch
from revsync.automations.rules import Command, RuleError
from revsync.automations.store import configure, rules_for
from revsync.automations.types import START, THANK_YOU, WIN_BACK
from revsync.settings import Settings
from revsync.store import db
from revsync.store.models import Subscriber, SubscriberTransition, Workspace


def setup(settings: Settings) -> tuple[int, int]:
    with db.session(settings.resolved_database_url) as session:
        workspace = Workspace(name="d")
        session.add(workspace)
        session.commit()
        assert workspace.id is not None
        ann = Subscriber(workspace_id=workspace.id, email="ann@x.io", email_norm="ann@x.io")
        session.add(ann)
        session.commit()
        assert ann.id is not None
        return workspace.id, ann.id


def record(settings: Settings, ws: int, ann: int, source: str, ltv: tuple[str, str],
           added: list[str] | None = None) -> int:
    with db.session(settings.resolved_database_url) as session:
        row = SubscriberTransition(workspace_id=ws, subscriber_id=ann, source_id=source,
                                   tags_added=added or [], tags_removed=[],
                                   ltv_before=D(ltv[0]), ltv_after=D(ltv[1]))
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def test_thank_you_is_planned_once_per_threshold_ever(settings: Settings) -> None:
    ws, ann = setup(settings)
    first = record(settings, ws, ann, "evt_1", ("900", "1100"))
    with db.session(settings.resolved_database_url) as session:
        planned, ids = dispatch.plan(session, ws, "evt_1")
        assert planned == [Command(THANK_YOU, START, ann, first, "ltv>=1000")] and ids == [first]
        # A crash before the mark: planning again gives the same (the workflow dedupes).
        assert dispatch.plan(session, ws, "evt_1") == (planned, ids)
        dispatch.mark_dispatched(session, ws, planned, ids)
        assert dispatch.plan(session, ws, "evt_1") == ([], [])
    # A refund took LTV below 1000, a new payment crosses it again: no second thank-you.
    record(settings, ws, ann, "evt_2", ("1100", "900"))
    again = record(settings, ws, ann, "evt_3", ("900", "1200"))
    with db.session(settings.resolved_database_url) as session:
        assert dispatch.plan(session, ws, "evt_3") == ([], [again])


def test_a_disabled_or_retuned_rule_changes_what_is_planned(settings: Settings) -> None:
    ws, ann = setup(settings)
    churn = record(settings, ws, ann, "evt_1", ("100", "300"), added=["churned"])
    with db.session(settings.resolved_database_url) as session:
        configure(session, ws, WIN_BACK, enabled=False)
        configure(session, ws, THANK_YOU, config={"threshold": "250"})
        assert dispatch.plan(session, ws, "evt_1")[0] == [
            Command(THANK_YOU, START, ann, churn, "ltv>=250")]
        assert rules_for(session, ws)[WIN_BACK].enabled is False
        with pytest.raises(RuleError, match="threshold is a number"):
            configure(session, ws, THANK_YOU, config={"threshold": "x"})
        assert rules_for(session, ws)[THANK_YOU].config["threshold"] == "250"  # unchanged
