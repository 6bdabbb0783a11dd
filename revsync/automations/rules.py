"""Which automation a subscriber's transition starts or stops. Pure: no I/O.

- win-back: `churned` added starts the sequence; `churned` removed (reactivated) stops it.
- thank-you: `ltv` crosses the threshold upward (before < threshold <= after).
- team alert: `past-due` added while MRR is at least the threshold. Past-due
  subscriptions leave MRR by default, so the larger of MRR before and after counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from revsync.automations.types import START, STOP, TEAM_ALERT, THANK_YOU, WIN_BACK

DEFAULTS: dict[str, dict[str, Any]] = {
    WIN_BACK: {"delays_days": [3, 7]},
    THANK_YOU: {"threshold": "1000"},
    TEAM_ALERT: {"threshold": "100", "recipients": []},
}


class RuleError(ValueError):
    """An automation setting is unusable; nothing was stored."""


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    config: Mapping[str, Any]

    @property
    def threshold(self) -> Decimal:
        return Decimal(str(self.config.get("threshold", DEFAULTS[self.kind].get("threshold"))))


@dataclass(frozen=True)
class Change:
    """The parts of a recorded transition the rules read."""

    transition_id: int
    subscriber_id: int
    tags_added: frozenset[str]
    tags_removed: frozenset[str]
    mrr_before: Decimal | None
    mrr_after: Decimal | None
    ltv_before: Decimal | None
    ltv_after: Decimal | None


@dataclass(frozen=True)
class Command:
    automation: str
    action: str
    subscriber_id: int
    transition_id: int
    key: str = ""


def commands(change: Change, rules: Mapping[str, Rule]) -> list[Command]:
    """What this transition asks of the enabled automations."""
    found: list[Command] = []

    def emit(kind: str, action: str, key: str = "") -> None:
        found.append(Command(kind, action, change.subscriber_id, change.transition_id, key))

    win_back = rules.get(WIN_BACK)
    if win_back and win_back.enabled:
        if "churned" in change.tags_added:
            emit(WIN_BACK, START)
        elif "churned" in change.tags_removed:
            emit(WIN_BACK, STOP, "reactivated")
    thank_you = rules.get(THANK_YOU)
    if thank_you and thank_you.enabled:
        threshold = thank_you.threshold
        if (change.ltv_before or 0) < threshold <= (change.ltv_after or 0):
            emit(THANK_YOU, START, f"ltv>={threshold}")
    alert = rules.get(TEAM_ALERT)
    if alert and alert.enabled and "past-due" in change.tags_added:
        mrr = max(change.mrr_before or Decimal(0), change.mrr_after or Decimal(0))
        if mrr >= alert.threshold:
            emit(TEAM_ALERT, START)
    return found


def validate(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with defaults filled in; `RuleError` says what is wrong."""
    if kind not in DEFAULTS:
        raise RuleError(f"unknown automation {kind!r}; one of {', '.join(DEFAULTS)}")
    unknown = set(config) - set(DEFAULTS[kind])
    if unknown:
        raise RuleError(f"{kind} has no settings {sorted(unknown)}")
    merged = {**DEFAULTS[kind], **config}
    if kind == WIN_BACK:
        delays = merged["delays_days"]
        if (not isinstance(delays, list) or len(delays) > 10
                or not all(isinstance(d, int | float) and 0 < d <= 365 for d in delays)):
            raise RuleError("delays_days is a list of up to 10 delays of 0-365 days")
    else:
        try:
            threshold = Decimal(str(merged["threshold"]))
        except InvalidOperation:
            raise RuleError(f"threshold is a number, not {merged['threshold']!r}") from None
        if not threshold.is_finite() or threshold < 0:
            raise RuleError("threshold is a number >= 0")
        merged["threshold"] = f"{threshold:f}"
    if kind == TEAM_ALERT:
        recipients = merged["recipients"]
        if not isinstance(recipients, list) or not all(
            isinstance(r, str) and "@" in r and len(r) <= 320 for r in recipients
        ):
            raise RuleError("recipients is a list of email addresses")
    return merged
