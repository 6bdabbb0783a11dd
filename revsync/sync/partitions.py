"""Split one Stripe list stream into created-time ranges that can be listed concurrently.

Pure: the probes that find the oldest object are the caller's. Stripe lists newest
first with one cursor per listing, so one stream is as fast as one request after
another; with a few disjoint `created` ranges the latency of several requests overlaps
and the rate budget, not the round trip, becomes the limit.
"""

from __future__ import annotations

import math
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


# A new partition must have this many pages ahead of it: each costs at most one partial
# page at its end (half a page on average), so splitting keeps requests within 10% of
# the minimum (5% on average), and a stream's last pages are still shared out.
MIN_PAGES_PER_PART = 10
# Pages a new partition needs ahead of it when the partial pages parts cost are already
# bounded by the pages read (one part per MIN_PAGES_PER_PART of them). Short parts keep
# cursors in flight while a sync's last pages are listed, which 10-page parts would
# leave to a few cursors.
TAIL_PAGES_PER_PART = 3
# Parts of one stream in all, finished ones included: each is a StreamState the sync
# carries through continue-as-new and reports at the end.
MAX_PARTS = 256
# Tasks of one account kept waiting in each task queue partition. Temporal splits a
# key's rate between the queue's partitions, and a partition with none of the key's tasks
# waiting spends none of its share.
WAITING_PER_PARTITION = 6


def cursors_wanted(requests_per_second: float, streams: list[StreamState],
                   queue_partitions: int) -> int:
    """Cursors in flight that keep the budget busy: budget x latency, plus waiting tasks.

    Each cursor has one request in flight at a time, so it lists at 1/latency requests per
    second at best (less the database write and the round trip through Temporal). Beyond
    those running, each of the queue's partitions needs some waiting for its share of the
    rate to be spent.
    """
    requests = sum(s.requests for s in streams)
    seconds = sum(s.seconds for s in streams)
    latency = seconds / requests if requests else 0.0
    running = math.ceil(requests_per_second * latency)
    return running + WAITING_PER_PARTITION * max(queue_partitions, 1)


def floor_hint(streams: list[StreamState]) -> int | None:
    """The oldest `created` any finished stream read: the account's history starts about
    there. Only a hint for where to cut: the lowest partition keeps no lower bound."""
    reached = [s.cursor_created for s in streams if s.done and s.cursor_created is not None]
    return min(reached, default=None)


def pages_left(stream: StreamState, low: int) -> float:
    """Pages still to read down to `low`, at the density read so far."""
    top, reached = stream.newest_created, stream.cursor_created
    if top is None or reached is None or reached <= low:
        return 0.0
    density = stream.objects / max(top - reached, 1)  # objects per second of history
    return density * (reached - low) / 100


def requests_per_page(streams: list[StreamState]) -> float:
    """Requests a list page of these partitions has taken, the pages completing its
    objects' nested lists included: one cursor sends them one after another, so a
    subscription page with long item lists keeps its cursor busy several times longer."""
    pages = sum(s.pages for s in streams)
    return (pages + sum(s.nested_pages for s in streams)) / pages if pages else 1.0


def parts_for(stream: StreamState, streams: list[StreamState], requests_per_second: float,
              max_partitions: int, queue_partitions: int,
              pages_per_part: int = MIN_PAGES_PER_PART) -> tuple[int, int | None]:
    """How many parts to cut `stream` into now (0: none), and the lower bound to cut from.

    Cut while fewer cursors are in flight than the budget needs, as far as the pages
    ahead pay for the partitions, with at most `max_partitions` of the stream listing at
    once; no request is spent finding where to cut. A new part needs `pages_per_part`
    pages' worth of requests ahead of it (nested-list pages count: they keep its cursor
    busy as list pages do).
    """
    low = lower_bound(stream)
    if low is None:
        low = floor_hint(streams)
    if stream.catalogue or stream.done or low is None:
        return 0, None
    active = sum(1 for s in streams if not s.done)
    every = [s for s in streams if s.name == stream.name]
    # Only the parts still listing count against `max_partitions`. Estimates of the pages
    # ahead run high on a growing account (recent objects are denser), so the parts are
    # also held to one per MIN_PAGES_PER_PART pages the stream has actually read, which
    # bounds the partial pages they cost, and to MAX_PARTS in all.
    listing = sum(1 for s in every if not s.done)
    paid = min(sum(s.pages for s in every) // MIN_PAGES_PER_PART + 1, MAX_PARTS)
    parts = min(cursors_wanted(requests_per_second, streams, queue_partitions) - active + 1,
                max_partitions - listing + 1,
                math.floor(pages_left(stream, low) * requests_per_page(every)
                           / pages_per_part),
                paid - len(every) + 1)
    return (parts, low) if parts >= 2 else (0, None)
