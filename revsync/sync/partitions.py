"""Split one Stripe list stream into created-time ranges that can be listed concurrently.

Pure: the probes that find the oldest object are the caller's. Stripe lists newest
first with one cursor per listing, so one stream is as fast as one request after
another; with a few disjoint `created` ranges the latency of several requests overlaps
and the rate budget, not the round trip, becomes the limit.
"""

from __future__ import annotations

from dataclasses import replace

from revsync.sync.types import StreamState

DAY = 86_400


def boundaries(oldest: int, newest: int, parts: int) -> list[int]:
    """`parts - 1` ascending cut points strictly inside (oldest, newest]."""
    span = newest - oldest
    if parts < 2 or span < parts:
        return []
    return sorted({oldest + span * k // parts for k in range(1, parts)})


def split(stream: StreamState, oldest: int, parts: int, first_part: int) -> list[StreamState]:
    """The stream, now bounded higher below, plus new partitions covering the rest.

    The running stream keeps its cursor and lists [top cut, ...); each new partition
    (numbered from `first_part`) lists [cut below, cut above) from its newest object.
    The lowest keeps the stream's own lower bound, none for a first split, so objects
    older than the probe found are still read. A partition that stays long is split
    again later, from its own bounds, without probing.
    """
    reached = stream.cursor_created  # the oldest `created` the stream has read so far
    running = replace(stream, split_pages=stream.pages, floor=stream.floor or oldest)
    if reached is None or stream.done:
        return [running]
    cuts = boundaries(oldest, reached, parts)
    if not cuts:
        return [running]
    lows: list[int | None] = [stream.created_gte, *cuts]
    highs = [*cuts, reached + 1]
    older = [
        StreamState(name=stream.name, part=first_part + n, created_gte=low, created_lt=high,
                    floor=oldest if low is None else None, catalogue=stream.catalogue)
        for n, (low, high) in enumerate(zip(lows[:-1], highs[:-1], strict=True))
    ]
    return [replace(running, created_gte=cuts[-1]), *older]


def lower_bound(stream: StreamState) -> int | None:
    """The oldest `created` this partition can hold, if known without probing."""
    return stream.created_gte if stream.created_gte is not None else stream.floor


def oldest_search_range(newest: int, years: int = 20) -> tuple[int, int]:
    """Where to look for the oldest object: a day-precise binary search below `newest`."""
    return max(newest - years * 365 * DAY, 0), newest
