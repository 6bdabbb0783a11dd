"""Every trigger kind against hand-written transitions, and every malformed document."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from revsync.automations.triggers import (
    TRIGGER_KINDS,
    Change,
    Trigger,
    TriggerError,
    disarms,
    fires,
    parse_trigger,
)


def change(added: str = "", removed: str = "", after: str | None = "",
           mrr: tuple[str | None, str | None] = ("10", "10"),
           ltv: tuple[str | None, str | None] = ("10", "10")) -> Change:
    """Tags as comma-separated text; `after=None`: a row recorded before tags_after."""
    def tags(text: str) -> frozenset[str]:
        return frozenset(t for t in text.split(",") if t)

    def dec(value: str | None) -> D | None:
        return None if value is None else D(value)
    return Change(7, 42, tags(added), tags(removed), dec(mrr[0]), dec(mrr[1]),
                  dec(ltv[0]), dec(ltv[1]), None if after is None else tags(after))


def fired(doc: dict[str, Any], c: Change) -> bool:
    return fires(parse_trigger(doc), c)


# (trigger, transition, fires): one row per behaviour each kind promises.
CASES: list[tuple[dict[str, Any], Change, bool]] = [
    ({"kind": "tag_added", "tag": "churned"}, change(added="churned", removed="customer"), True),
    ({"kind": "tag_added", "tag": "churned"}, change(removed="churned"), False),
    ({"kind": "tag_removed", "tag": "saas.yearly"}, change(removed="saas.yearly"), True),
    ({"kind": "tag_removed", "tag": "saas.yearly"}, change(added="saas.yearly"), False),
    ({"kind": "trial_started"}, change(added="trial,saas.monthly", after="trial"), True),
    ({"kind": "trial_started"}, change(added="saas.monthly", after="trial"), False),
    # converted: trial gone, customer now (added here, or already held)
    ({"kind": "trial_converted"}, change(added="customer", removed="trial",
                                         after="customer"), True),
    ({"kind": "trial_converted"}, change(removed="trial", after="customer,saas.yearly"), True),
    ({"kind": "trial_converted"}, change(removed="trial", after="churned"), False),
    # expired: the trial ended without a paying subscription
    ({"kind": "trial_expired"}, change(added="churned", removed="trial", after="churned"), True),
    ({"kind": "trial_expired"}, change(removed="trial", after=""), True),
    ({"kind": "trial_expired"}, change(added="customer", removed="trial",
                                       after="customer"), False),
    ({"kind": "recovered"}, change(removed="past-due", after="customer"), True),
    ({"kind": "recovered"}, change(added="churned", removed="past-due,customer",
                                   after="churned"), False),
    ({"kind": "reactivated"}, change(added="customer", removed="churned",
                                     after="customer"), True),
    ({"kind": "reactivated"}, change(removed="churned", after=""), False),  # lost eligibility
    ({"kind": "cancel_scheduled"}, change(added="cancelled", after="customer,cancelled"), True),
    ({"kind": "cancel_scheduled"}, change(after="customer,cancelled"), False),
    ({"kind": "cancel_revoked"}, change(removed="cancelled", after="customer"), True),
    ({"kind": "cancel_revoked"}, change(removed="cancelled", after="trial"), True),
    # the subscription ended: cancelled went away with it, nothing was revoked
    ({"kind": "cancel_revoked"}, change(added="churned", removed="cancelled,customer",
                                        after="churned"), False),
    # expansion 100 -> 130: +30, +30%
    ({"kind": "mrr_expanded"}, change(mrr=("100", "130")), True),
    ({"kind": "mrr_expanded", "min_change": "30"}, change(mrr=("100", "130")), True),
    ({"kind": "mrr_expanded", "min_change": "30.01"}, change(mrr=("100", "130")), False),
    ({"kind": "mrr_expanded", "min_percent": "30"}, change(mrr=("100", "130")), True),
    ({"kind": "mrr_expanded", "min_percent": "30.5"}, change(mrr=("100", "130")), False),
    ({"kind": "mrr_expanded"}, change(mrr=(None, "50")), False),  # a first subscription
    ({"kind": "mrr_expanded"}, change(mrr=("0", "50")), False),
    ({"kind": "mrr_expanded"}, change(mrr=("130", "100")), False),
    # contraction 80 -> 60: -20, -25%
    ({"kind": "mrr_contracted", "min_percent": "25"}, change(mrr=("80", "60")), True),
    ({"kind": "mrr_contracted", "min_percent": "25.01"}, change(mrr=("80", "60")), False),
    ({"kind": "mrr_contracted", "min_change": 20}, change(mrr=("80", "60")), True),
    ({"kind": "mrr_contracted"}, change(mrr=("80", "0")), False),  # to zero: a cancellation
    ({"kind": "mrr_contracted"}, change(mrr=("80", None)), False),
    # crossing: before < threshold <= after upward; after < threshold <= before downward
    ({"kind": "mrr_crossed", "threshold": "100"}, change(mrr=("99.99", "100.00")), True),
    ({"kind": "mrr_crossed", "threshold": "100"}, change(mrr=("100", "150")), False),
    ({"kind": "mrr_crossed", "threshold": "100", "direction": "down"},
     change(mrr=("100", "99.99")), True),
    ({"kind": "mrr_crossed", "threshold": "100", "direction": "down"},
     change(mrr=("99", "50")), False),
    ({"kind": "ltv_crossed", "threshold": 500}, change(ltv=(None, "500")), True),
    ({"kind": "ltv_crossed", "threshold": 500, "direction": "down"},
     change(ltv=("510", None)), True),
    ({"kind": "ltv_crossed", "threshold": 500}, change(ltv=("510", "900")), False),
    ({"kind": "payment"}, change(ltv=("10", "39")), True),
    ({"kind": "payment"}, change(ltv=(None, "39")), True),
    ({"kind": "payment"}, change(ltv=("39", "39")), False),
    ({"kind": "refund"}, change(ltv=("39", "29")), True),
    ({"kind": "refund"}, change(ltv=("39", None)), False),  # lost eligibility: cleared
    ({"kind": "refund"}, change(ltv=("29", "39")), False),
    # the timer is armed when the trial starts (it fires later, in the rule's workflow)
    ({"kind": "trial_ends_in", "days": 3}, change(added="trial", after="trial"), True),
    ({"kind": "trial_ends_in", "days": 3}, change(removed="trial", after="customer"), False),
    # mrr_at_least: the larger of MRR before and after (past-due leaves MRR)
    ({"kind": "tag_added", "tag": "past-due", "mrr_at_least": "100"},
     change(added="past-due", mrr=("150", "0")), True),
    ({"kind": "tag_added", "tag": "past-due", "mrr_at_least": "100"},
     change(added="past-due", mrr=("99.99", "0")), False),
    ({"kind": "payment", "mrr_at_least": "100"}, change(ltv=("0", "5"), mrr=(None, None)),
     False),
]


@pytest.mark.parametrize("doc, transition, expected", CASES)
def test_trigger_fires_on_exactly_its_transitions(doc: dict[str, Any], transition: Change,
                                                  expected: bool) -> None:
    assert fired(doc, transition) is expected


def test_every_kind_has_a_case_that_fires_and_one_that_does_not() -> None:
    outcomes: dict[str, set[bool]] = {}
    for doc, _, expected in CASES:
        outcomes.setdefault(doc["kind"], set()).add(expected)
    assert [k for k in TRIGGER_KINDS if outcomes.get(k) != {True, False}] == []


def test_a_trial_ending_disarms_the_timer_and_nothing_else() -> None:
    timer = parse_trigger({"kind": "trial_ends_in", "days": 3})
    assert disarms(timer, change(removed="trial", added="customer", after="customer"))
    assert disarms(timer, change(removed="trial", added="churned", after="churned"))
    assert not disarms(timer, change(added="saas.yearly", after="trial,saas.yearly"))
    assert not disarms(parse_trigger({"kind": "trial_started"}), change(removed="trial"))
    assert timer.to_doc() == {"kind": "trial_ends_in", "days": 3}


def test_rows_recorded_before_tags_after_read_what_the_transition_added() -> None:
    assert fired({"kind": "trial_converted"},
                 change(added="customer", removed="trial", after=None))
    assert not fired({"kind": "trial_converted"}, change(removed="trial", after=None))
    assert fired({"kind": "reactivated"}, change(added="customer", removed="churned",
                                                 after=None))


def test_documents_are_normalised_and_round_trip() -> None:
    trigger = parse_trigger({"kind": "mrr_expanded", "min_percent": 10})
    assert trigger == Trigger("mrr_expanded", min_percent=D("10"))
    assert trigger.to_doc() == {"kind": "mrr_expanded", "min_percent": "10"}
    crossed = parse_trigger({"kind": "ltv_crossed", "threshold": "500.50"})
    assert crossed.to_doc() == {"kind": "ltv_crossed", "threshold": "500.50", "direction": "up"}
    for doc, _, _ in CASES:
        assert parse_trigger(parse_trigger(doc).to_doc()) == parse_trigger(doc)


@pytest.mark.parametrize("doc, message", [
    (None, "trigger is an object with a 'kind'"),
    (["tag_added"], "trigger is an object with a 'kind'"),
    ({}, "trigger kind None is not one of tag_added, tag_removed"),
    ({"kind": "trial_ends"}, "trigger kind 'trial_ends' is not one of"),
    ({"kind": "tag_added"}, "trigger tag_added needs a tag, one of cancelled, churned"),
    ({"kind": "tag_added", "tag": "vip"}, "trigger tag_added needs a tag"),
    ({"kind": "trial_started", "tag": "trial"}, "trigger trial_started takes no tag"),
    ({"kind": "payment", "threshold": 5, "x": 1}, "trigger payment takes no threshold, x"),
    ({"kind": "mrr_crossed"}, "trigger mrr_crossed: threshold is a number >= 0, not None"),
    ({"kind": "mrr_crossed", "threshold": "-1"}, "threshold is a number >= 0, not '-1'"),
    ({"kind": "mrr_crossed", "threshold": "lots"}, "threshold is a number >= 0, not 'lots'"),
    ({"kind": "mrr_crossed", "threshold": "NaN"}, "threshold is a number >= 0, not 'NaN'"),
    ({"kind": "mrr_crossed", "threshold": True}, "threshold is a number >= 0, not True"),
    ({"kind": "mrr_crossed", "threshold": [1]}, "threshold is a number >= 0, not [1]"),
    ({"kind": "mrr_crossed", "threshold": 1, "direction": "sideways"},
     "direction is 'up' or 'down', not 'sideways'"),
    ({"kind": "mrr_expanded", "min_percent": "inf"}, "min_percent is a number >= 0"),
    ({"kind": "refund", "mrr_at_least": "x"}, "trigger refund: mrr_at_least is a number >= 0"),
    ({"kind": "trial_ends_in"}, "days is a whole number from 1 to 60, not None"),
    ({"kind": "trial_ends_in", "days": 0}, "days is a whole number from 1 to 60, not 0"),
    ({"kind": "trial_ends_in", "days": 61}, "not 61"),
    ({"kind": "trial_ends_in", "days": 2.5}, "not 2.5"),
    ({"kind": "trial_ends_in", "days": True}, "not True"),
])
def test_malformed_triggers_say_what_is_wrong(doc: Any, message: str) -> None:
    with pytest.raises(TriggerError) as raised:
        parse_trigger(doc)
    assert message in str(raised.value)
