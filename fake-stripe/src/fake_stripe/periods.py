"""Billing-period arithmetic (calendar months, like Stripe), for item periods."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Final

_FIXED_SECONDS: Final = {"day": 86_400, "week": 7 * 86_400}


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_MONTH_DAYS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_length(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def add_interval(ts: int, interval: str, count: int, times: int = 1) -> int:
    """``ts`` moved forward by ``times`` billing intervals (month ends clamp, as Stripe).

    Integer date arithmetic rather than datetime objects: the generator calls this
    for every one of ~800,000 charges.
    """
    if interval in _FIXED_SECONDS:
        return ts + _FIXED_SECONDS[interval] * count * times
    months = count * times * (12 if interval == "year" else 1)
    days_since, time_of_day = divmod(ts, 86_400)
    start = date.fromordinal(days_since + _EPOCH_ORDINAL)
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    day = min(start.day, _month_length(year, month0 + 1))
    moved = date(year, month0 + 1, day).toordinal() - _EPOCH_ORDINAL
    return moved * 86_400 + time_of_day


def periods_between(anchor: int, interval: str, count: int, at: int) -> int:
    """How many whole billing periods starting at ``anchor`` have begun by ``at``."""
    if at < anchor:
        return 0
    if interval in _FIXED_SECONDS:
        return (at - anchor) // (_FIXED_SECONDS[interval] * count) + 1
    a = datetime.fromtimestamp(anchor, UTC)
    b = datetime.fromtimestamp(at, UTC)
    months = (b.year - a.year) * 12 + b.month - a.month
    step = count * (12 if interval == "year" else 1)
    n = months // step
    if add_interval(anchor, interval, count, n) > at:
        n -= 1
    return max(n, 0) + 1


def period_containing(anchor: int, interval: str, count: int, at: int) -> tuple[int, int]:
    """The (start, end) of the billing period that contains ``at``."""
    n = max(periods_between(anchor, interval, count, at) - 1, 0)
    return add_interval(anchor, interval, count, n), add_interval(anchor, interval, count, n + 1)


def to_timestamp(moment: datetime) -> int:
    """A UTC unix timestamp."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def days(n: float) -> int:
    """Seconds in ``n`` days."""
    return int(timedelta(days=n).total_seconds())
