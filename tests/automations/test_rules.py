"""Which transition starts or stops which automation: hand-written cases."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from revsync.automations.rules import DEFAULTS, Change, Command, Rule, RuleError, commands, validate
from revsync.automations.types import START, STOP, TEAM_ALERT, THANK_YOU, WIN_BACK

RULES = {kind: Rule(kind, True, config) for kind, config in DEFAULTS.items()}


def change(added: tuple[str, ...] = (), removed: tuple[str, ...] = (),
           mrr: tuple[str | None, str | None] = ("10", "10"),
           ltv: tuple[str | None, str | None] = ("10", "10")) -> Change:
    def dec(value: str | None) -> D | None:
        return None if value is None else D(value)
    return Change(7, 42, frozenset(added), frozenset(removed), dec(mrr[0]), dec(mrr[1]),
                  dec(ltv[0]), dec(ltv[1]))


def test_churn_starts_and_reactivation_stops_the_win_back() -> None:
    assert commands(change(added=("churned",), removed=("customer",)), RULES) == [
        Command(WIN_BACK, START, 42, 7)]
    assert commands(change(added=("customer",), removed=("churned",)), RULES) == [
        Command(WIN_BACK, STOP, 42, 7, "reactivated")]


@pytest.mark.parametrize("before, after, fires", [
    ("999.99", "1000.00", True),   # reaches the threshold: 1000 <= 1000
    ("500", "1500", True),
    (None, "1200", True),          # no LTV before counts as 0
    ("1000", "1200", False),       # already at it: crossed earlier
    ("1200", "900", False),        # downward (a refund) never thanks
    ("10", "999.99", False),
])
def test_thank_you_fires_when_ltv_crosses_upward(before: str | None, after: str,
                                                  fires: bool) -> None:
    expected = [Command(THANK_YOU, START, 42, 7, "ltv>=1000")] if fires else []
    assert commands(change(ltv=(before, after)), RULES) == expected


@pytest.mark.parametrize("mrr, fires", [
    (("150.00", "0.00"), True),   # past_due leaves MRR: the MRR before counts
    (("100.00", "0.00"), True),   # exactly the threshold
    (("99.99", "0.00"), False),
    ((None, None), False),
])
def test_team_alert_needs_past_due_and_enough_mrr(mrr: tuple[str | None, str | None],
                                                   fires: bool) -> None:
    expected = [Command(TEAM_ALERT, START, 42, 7)] if fires else []
    assert commands(change(added=("past-due",), mrr=mrr), RULES) == expected


def test_disabled_rules_and_tuned_thresholds() -> None:
    rules = {**RULES, WIN_BACK: Rule(WIN_BACK, False, DEFAULTS[WIN_BACK]),
             THANK_YOU: Rule(THANK_YOU, True, {"threshold": "250"})}
    assert commands(change(added=("churned",), ltv=("200", "300")), rules) == [
        Command(THANK_YOU, START, 42, 7, "ltv>=250")]


@pytest.mark.parametrize("kind, config, message", [
    ("nope", {}, "unknown automation 'nope'"),
    (WIN_BACK, {"delays_days": [3, -1]}, "delays of 0-365 days"),
    (WIN_BACK, {"delays_days": "3,7"}, "delays of 0-365 days"),
    (WIN_BACK, {"delay": 3}, "has no settings ['delay']"),
    (THANK_YOU, {"threshold": "lots"}, "threshold is a number"),
    (THANK_YOU, {"threshold": "-5"}, "threshold is a number >= 0"),
    (THANK_YOU, {"threshold": "NaN"}, "threshold is a number >= 0"),
    (TEAM_ALERT, {"recipients": ["not-an-address"]}, "list of email addresses"),
])
def test_bad_settings_are_refused(kind: str, config: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate(kind, config)


def test_valid_settings_are_normalised() -> None:
    assert validate(THANK_YOU, {"threshold": "1e3"}) == {"threshold": "1000"}
    assert validate(WIN_BACK, {}) == {"delays_days": [3, 7]}
