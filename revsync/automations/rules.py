"""Which automation a subscriber's transition starts or stops. Pure: no I/O.

Each automation is a trigger (see `triggers`) built from its settings:

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

from revsync.automations.triggers import Change, Trigger, fires
from revsync.automations.types import KINDS, START, STOP, TEAM_ALERT, THANK_YOU, WIN_BACK

__all__ = ["DEFAULTS", "Change", "Command", "Rule", "RuleError", "commands", "validate"]

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

    @property
    def start(self) -> Trigger:
        """The transition that starts this automation for a subscriber."""
        if self.kind == WIN_BACK:
            return Trigger("tag_added", tag="churned")
        if self.kind == THANK_YOU:
            return Trigger("ltv_crossed", threshold=self.threshold, direction="up")
        return Trigger("tag_added", tag="past-due", mrr_at_least=self.threshold)


# The transitions that stop a running automation, and the reason it records.
STOPS: dict[str, tuple[Trigger, str]] = {
    WIN_BACK: (Trigger("tag_removed", tag="churned"), "reactivated"),
}


@dataclass(frozen=True)
class Command:
    automation: str
    action: str
    subscriber_id: int
    transition_id: int
    key: str = ""


def commands(change: Change, rules: Mapping[str, Rule]) -> list[Command]:
    """What this transition asks of the enabled automations, in `KINDS` order."""
    found: list[Command] = []
    for kind in KINDS:
        rule = rules.get(kind)
        if rule is None or not rule.enabled:
            continue
        stop = STOPS.get(kind)
        if fires(rule.start, change):
            key = f"ltv>={rule.threshold}" if kind == THANK_YOU else ""
            found.append(Command(kind, START, change.subscriber_id, change.transition_id, key))
        elif stop is not None and fires(stop[0], change):
            found.append(Command(kind, STOP, change.subscriber_id, change.transition_id,
                                 stop[1]))
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
