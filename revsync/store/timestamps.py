"""Reading stored times back as aware UTC datetimes.

Every time is written as aware UTC (`models.utcnow`), but SQLite keeps no zone and reads
it back naive; code comparing a stored time with now, or printing it, goes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
