"""Triggers: which recorded transitions start a rule. Pure: no I/O.

A trigger reads only a transition (`Change`): the Stripe-managed tags it added and
removed, the tags the subscriber holds after it, and `mrr` / `ltv` before and after.
Raw Stripe events never reach here, so a trigger fires on the subscriber's state: a
trial that converted is no longer on trial, and a redelivered event records no
second transition.

One trigger is a timer: `trial_ends_in` (`days`) is armed when a transition adds `trial`
and fires `days` before the trial's end if the subscriber is still on trial then; a
transition that removes `trial` (converted or ended) disarms it (`disarms`).

A trigger is written as a small document, e.g. `{"kind": "tag_added", "tag":
"churned"}` or `{"kind": "mrr_expanded", "min_percent": "10"}`; `parse_trigger`
checks it and says what is wrong, `fires` evaluates it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from revsync.automations.documents import kind_of
from revsync.revenue import STRIPE_TAGS

ZERO = Decimal(0)
_T = TypeVar("_T")


class TriggerError(ValueError):
    """A trigger document is unusable; the message says which field and why."""


@dataclass(frozen=True)
class Change:
    """The parts of a recorded transition the triggers read.

    `tags_after` is None for transitions recorded before it was stored; the triggers
    that need it then read what the transition added instead.
    """

    transition_id: int
    subscriber_id: int
    tags_added: frozenset[str]
    tags_removed: frozenset[str]
    mrr_before: Decimal | None
    mrr_after: Decimal | None
    ltv_before: Decimal | None
    ltv_after: Decimal | None
    tags_after: frozenset[str] | None = None

    def holds(self, tag: str) -> bool:
        """Whether the subscriber has `tag` after the transition."""
        if self.tags_after is not None:
            return tag in self.tags_after
        return tag in self.tags_added


@dataclass(frozen=True)
class Trigger:
    """A parsed trigger; only the fields its kind takes are set."""

    kind: str
    tag: str | None = None
    threshold: Decimal | None = None
    direction: str | None = None  # up | down
    min_change: Decimal = ZERO  # mrr_expanded / mrr_contracted: absolute, in currency
    min_percent: Decimal = ZERO  # ... and relative to the MRR before
    mrr_at_least: Decimal | None = None  # the larger of MRR before and after, at least
    days: int | None = None  # trial_ends_in: this many days before the trial's end

    def to_doc(self) -> dict[str, Any]:
        """The document this trigger was parsed from, normalised (decimals as text)."""
        doc: dict[str, Any] = {"kind": self.kind}
        for name in TRIGGER_FIELDS[self.kind]:
            value = getattr(self, name)
            if value is None or (name in ("min_change", "min_percent") and value == ZERO):
                continue  # unset, or the default
            doc[name] = f"{value:f}" if isinstance(value, Decimal) else value
        return doc


def _mrr(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


def _crossed(before: Decimal | None, after: Decimal | None, threshold: Decimal,
             direction: str) -> bool:
    if direction == "up":
        return _mrr(before) < threshold <= _mrr(after)
    return _mrr(after) < threshold <= _mrr(before)


def _enough(trigger: Trigger, before: Decimal, after: Decimal) -> bool:
    change = abs(after - before)
    return change >= trigger.min_change and change * 100 >= trigger.min_percent * before


def _expanded(t: Trigger, c: Change) -> bool:
    before, after = _mrr(c.mrr_before), _mrr(c.mrr_after)
    return ZERO < before < after and _enough(t, before, after)


def _contracted(t: Trigger, c: Change) -> bool:
    before, after = _mrr(c.mrr_before), _mrr(c.mrr_after)
    return ZERO < after < before and _enough(t, before, after)


def _live_after(c: Change) -> bool:
    return (c.holds("customer") or c.holds("trial")) and not c.holds("churned")


_RULES: dict[str, Callable[[Trigger, Change], bool]] = {
    "tag_added": lambda t, c: t.tag in c.tags_added,
    "tag_removed": lambda t, c: t.tag in c.tags_removed,
    "trial_started": lambda t, c: "trial" in c.tags_added,
    "trial_converted": lambda t, c: "trial" in c.tags_removed and c.holds("customer"),
    "trial_expired": lambda t, c: "trial" in c.tags_removed and not c.holds("customer"),
    "recovered": lambda t, c: "past-due" in c.tags_removed and c.holds("customer"),
    "reactivated": lambda t, c: "churned" in c.tags_removed and c.holds("customer"),
    "cancel_scheduled": lambda t, c: "cancelled" in c.tags_added,
    "cancel_revoked": lambda t, c: "cancelled" in c.tags_removed and _live_after(c),
    "mrr_expanded": _expanded,
    "mrr_contracted": _contracted,
    "mrr_crossed": lambda t, c: _crossed(c.mrr_before, c.mrr_after, _set(t.threshold),
                                         _set(t.direction)),
    "ltv_crossed": lambda t, c: _crossed(c.ltv_before, c.ltv_after, _set(t.threshold),
                                         _set(t.direction)),
    # LTV counts succeeded charges net of refunds: it rises with a payment and falls with
    # a refund. Losing eligibility clears it (None after), which is not a refund.
    "payment": lambda t, c: c.ltv_after is not None and _mrr(c.ltv_before) < c.ltv_after,
    "refund": lambda t, c: (c.ltv_before is not None and c.ltv_after is not None
                            and c.ltv_after < c.ltv_before),
    "trial_ends_in": lambda t, c: "trial" in c.tags_added,  # arms the timer
}
TIMERS = frozenset({"trial_ends_in"})
MAX_DAYS_BEFORE = 60

# The fields each kind takes besides `kind`; `mrr_at_least` is allowed on every kind.
TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    **{kind: ("mrr_at_least",) for kind in _RULES},
    "tag_added": ("tag", "mrr_at_least"),
    "tag_removed": ("tag", "mrr_at_least"),
    "mrr_expanded": ("min_change", "min_percent", "mrr_at_least"),
    "mrr_contracted": ("min_change", "min_percent", "mrr_at_least"),
    "mrr_crossed": ("threshold", "direction", "mrr_at_least"),
    "ltv_crossed": ("threshold", "direction", "mrr_at_least"),
    "trial_ends_in": ("days", "mrr_at_least"),
}
TRIGGER_KINDS: tuple[str, ...] = tuple(_RULES)


def _set(value: _T | None) -> _T:
    assert value is not None  # parse_trigger requires it for the kinds that read it
    return value


def fires(trigger: Trigger, change: Change) -> bool:
    """Whether this transition is one the trigger waits for."""
    if trigger.mrr_at_least is not None:
        larger = max(_mrr(change.mrr_before), _mrr(change.mrr_after))
        if larger < trigger.mrr_at_least:
            return False
    return _RULES[trigger.kind](trigger, change)


def disarms(trigger: Trigger, change: Change) -> bool:
    """Whether this transition cancels the trigger's armed timer (the trial is over)."""
    return trigger.kind in TIMERS and "trial" in change.tags_removed


def parse_trigger(doc: Any) -> Trigger:
    """A trigger from its document; `TriggerError` names the first problem."""
    kind, doc = kind_of(doc, "trigger", TRIGGER_FIELDS, TriggerError)
    values: dict[str, Any] = {}
    if "tag" in TRIGGER_FIELDS[kind]:
        tag = doc.get("tag")
        if tag not in STRIPE_TAGS:
            raise TriggerError(
                f"trigger {kind} needs a tag, one of {', '.join(sorted(STRIPE_TAGS))}")
        values["tag"] = tag
    if "threshold" in TRIGGER_FIELDS[kind]:
        values["threshold"] = _amount(kind, "threshold", doc.get("threshold"))
        direction = doc.get("direction", "up")
        if direction not in ("up", "down"):
            raise TriggerError(f"trigger {kind}: direction is 'up' or 'down', not {direction!r}")
        values["direction"] = direction
    for name in ("min_change", "min_percent"):
        if name in TRIGGER_FIELDS[kind]:
            values[name] = _amount(kind, name, doc.get(name, "0"))
    if "days" in TRIGGER_FIELDS[kind]:
        days = doc.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not (
                1 <= days <= MAX_DAYS_BEFORE):
            raise TriggerError(f"trigger {kind}: days is a whole number from 1 to "
                               f"{MAX_DAYS_BEFORE}, not {days!r}")
        values["days"] = days
    if doc.get("mrr_at_least") is not None:
        values["mrr_at_least"] = _amount(kind, "mrr_at_least", doc["mrr_at_least"])
    return Trigger(kind, **values)


def _amount(kind: str, name: str, value: Any) -> Decimal:
    """A non-negative decimal given as a number or text (never a float's binary noise)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TriggerError(f"trigger {kind}: {name} is a number >= 0, not {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise TriggerError(f"trigger {kind}: {name} is a number >= 0, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise TriggerError(f"trigger {kind}: {name} is a number >= 0, not {value!r}")
    return amount
