"""Created-time partitions: disjoint, complete, and only where they pay."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from revsync.sync.partitions import (
    MAX_PARTS,
    TAIL_PAGES_PER_PART,
    WAITING_PER_PARTITION,
    boundaries,
    cursors_wanted,
    lower_bound,
    pages_left,
    parts_for,
    split,
)
from revsync.sync.types import StreamState, min_requests


def test_boundaries_cut_the_span_evenly() -> None:
    # 1,000..1,400 in 4 parts -> cuts at 1,100 / 1,200 / 1,300
    assert boundaries(1_000, 1_400, 4) == [1_100, 1_200, 1_300]
    assert boundaries(1_000, 1_002, 4) == []  # too narrow to split
    assert boundaries(1_000, 2_000, 1) == []


def test_split_keeps_the_cursor_and_covers_everything_older() -> None:
    running = StreamState(name="charges", cursor="ch_9", cursor_created=1_400, pages=150,
                          objects=15_000, requests=150)
    parts = split(running, oldest=1_000, parts=4, first_part=1)
    assert parts[0] == StreamState(name="charges", cursor="ch_9", cursor_created=1_400,
                                   pages=150, objects=15_000, requests=150, created_gte=1_300,
                                   split_pages=150, floor=1_000)
    assert [(p.part, p.created_gte, p.created_lt, p.cursor) for p in parts[1:]] == [
        (1, None, 1_100, None), (2, 1_100, 1_200, None), (3, 1_200, 1_300, None)]
    assert {p.key for p in parts} == {"charges", "charges#1", "charges#2", "charges#3"}
    # The unbounded partition remembers the probe's floor, so it can split again locally.
    assert parts[1].floor == 1_000 and lower_bound(parts[1]) == 1_000


def test_a_bounded_partition_splits_within_its_bounds() -> None:
    partition = StreamState(name="charges", part=2, created_gte=1_100, created_lt=1_200,
                            cursor="ch_5", cursor_created=1_180, pages=150)
    parts = split(partition, lower_bound(partition) or 0, parts=2, first_part=4)
    # 1,100..1,180 in 2 -> cut at 1,140: the running part keeps [1,140, 1,200).
    assert [(p.part, p.created_gte, p.created_lt) for p in parts] == [
        (2, 1_140, 1_200), (4, 1_100, 1_140)]


@given(st.integers(0, 10**9), st.integers(1, 10**7), st.integers(2, 8),
       st.lists(st.integers(0, 2 * 10**9), max_size=50))
def test_every_timestamp_falls_in_exactly_one_partition(
    oldest: int, span: int, parts: int, stamps: list[int]
) -> None:
    reached = oldest + span
    running = StreamState(name="charges", cursor="ch_1", cursor_created=reached)
    partitions = split(running, oldest, parts, first_part=1)
    for t in stamps:
        if t > reached:
            continue  # newer than the cursor: already listed before the split
        owners = [p for p in partitions
                  if (p.created_gte is None or p.created_gte <= t)
                  and (p.created_lt is None or t < p.created_lt)]
        assert len(owners) == 1


def test_partitions_count_as_one_stream_for_the_minimum() -> None:
    # 150 + 60 + 40 charges = 250 -> 3 requests, not 2 + 1 + 1.
    streams = [StreamState(name="charges", objects=150),
               StreamState(name="charges", part=1, objects=60),
               StreamState(name="charges", part=2, objects=40)]
    assert min_requests(streams) == 3


def running(objects: int, newest: int, reached: int) -> StreamState:
    """A stream that has read `objects` from `newest` down to `reached`."""
    return StreamState(name="charges", cursor="ch_x", newest_created=newest,
                       cursor_created=reached, objects=objects, pages=objects // 100,
                       requests=objects // 100)


def test_each_queue_partition_gets_waiting_tasks_of_its_own() -> None:
    # 300 ms per request, 10 requests/s: 3 cursors busy; 4 partitions x 6 waiting.
    streams = [replace(running(1000, 2_000, 1_000), seconds=3.0)]
    assert WAITING_PER_PARTITION == 6
    assert cursors_wanted(10, streams, queue_partitions=4) == 3 + 24
    assert cursors_wanted(10, streams, queue_partitions=1) == 3 + 6
    # At 30 ms: 1 busy, 6 waiting on the one partition.
    assert cursors_wanted(10, [replace(streams[0], seconds=0.3)], queue_partitions=1) == 7
    # Nothing read yet (no latency known): the waiting ones only.
    assert cursors_wanted(10, [StreamState(name="charges")], queue_partitions=1) == 6


def test_finished_parts_leave_room_for_new_ones() -> None:
    # 31 finished charges parts and one running, 95 pages left: only the parts still
    # listing count against the 32 allowed at once.
    stream = replace(running(500, 200_000, 195_000), seconds=1.5, created_gte=100_000)
    done = [StreamState(name="charges", part=n, done=True, pages=20) for n in range(1, 32)]
    parts, low = parts_for(stream, [stream, *done], 10, max_partitions=32,
                           queue_partitions=1)
    # 9 cursors wanted, 1 listing: 9 parts (95 pages left pay for 9 of 10 pages).
    assert (parts, low) == (9, 100_000)
    # Bounded in all, so the state carried through continue-as-new stays small.
    many = [StreamState(name="charges", part=n, done=True) for n in range(1, MAX_PARTS)]
    assert parts_for(stream, [stream, *many], 10, 32, queue_partitions=1) == (0, None)


def test_a_long_stream_is_cut_from_the_oldest_point_a_finished_stream_reached() -> None:
    # 5,000 objects over 5,000 s read in 50 pages at 300 ms; 100,000 s left at that
    # density = 1,000 pages left.
    stream = replace(running(5000, 200_000, 195_000), seconds=15.0)
    prices = StreamState(name="prices", catalogue=True, done=True, cursor_created=95_000)
    parts, low = parts_for(stream, [stream, prices], 10, max_partitions=32,
                           queue_partitions=1)
    # 10/s x 0.3 s = 3 busy + 6 waiting = 9 cursors wanted, 1 running: 9; the 1,000
    # pages left pay for 100; the 50 pages read pay for 6 parts in all: 6.
    assert (parts, low) == (6, 95_000)


def test_pages_ahead_pay_for_each_part() -> None:
    # A part needs 10 pages ahead and 10 pages already read: 0.1 objects per second
    # read, so 155,000 gives 40 pages ahead; the 5 pages read so far pay for none.
    stream = replace(running(500, 200_000, 195_000), seconds=1.5)
    prices = StreamState(name="prices", catalogue=True, done=True, cursor_created=155_000)
    assert parts_for(stream, [stream, prices], 10, 32, queue_partitions=4) == (0, None)
    # With 40 read (35 by a finished part) 5 parts in all are paid for: 4 beside the
    # finished one, and the 40 pages ahead pay for 4.
    done = StreamState(name="charges", part=9, done=True, pages=35)
    assert parts_for(stream, [stream, done, prices], 10, 32, queue_partitions=4) == (
        4, 155_000)
    # 20 pages ahead pay for 2.
    prices = replace(prices, cursor_created=175_000)
    assert parts_for(stream, [stream, done, prices], 10, 32, queue_partitions=4) == (
        2, 175_000)


def test_short_parts_share_out_a_streams_last_pages() -> None:
    # 15 pages left (0.1 objects per second read, 15,000 s of history below): no room
    # for two 10-page parts, room for five 3-page ones; the 40 pages read so far pay for
    # 5 parts in all, so 4 beside the finished one.
    stream = replace(running(500, 200_000, 195_000), seconds=1.5)
    prices = StreamState(name="prices", catalogue=True, done=True, cursor_created=180_000)
    done = StreamState(name="charges", part=9, done=True, pages=35)
    streams = [stream, done, prices]
    assert parts_for(stream, streams, 10, 32, queue_partitions=4) == (0, None)
    assert parts_for(stream, streams, 10, 32, queue_partitions=4,
                     pages_per_part=TAIL_PAGES_PER_PART) == (4, 180_000)
    # Without the finished part's pages, 5 read pay for one part: none is cut.
    assert parts_for(stream, [stream, prices], 10, 32, queue_partitions=4,
                     pages_per_part=TAIL_PAGES_PER_PART) == (0, None)


def test_nested_list_pages_count_as_pages_ahead() -> None:
    # 5 list pages left (0.1 objects per second read, 5,000 s of history below): no room
    # for two 3-page parts. But each page so far took two more for its objects' nested
    # lists, so 15 requests are ahead, room for five 3-request parts; 40 pages read pay
    # for 5 parts in all, 4 beside the finished one.
    stream = replace(running(500, 200_000, 195_000), seconds=1.5)
    prices = StreamState(name="prices", catalogue=True, done=True, cursor_created=190_000)
    done = StreamState(name="charges", part=9, done=True, pages=35)
    assert parts_for(stream, [stream, done, prices], 10, 32, queue_partitions=4,
                     pages_per_part=TAIL_PAGES_PER_PART) == (0, None)
    nested = [replace(stream, nested_pages=10), replace(done, nested_pages=70), prices]
    assert parts_for(nested[0], nested, 10, 32, queue_partitions=4,
                     pages_per_part=TAIL_PAGES_PER_PART) == (4, 190_000)


def test_no_cut_without_a_bound_enough_cursors_or_room() -> None:
    # 10,000 objects over 10,000 s read in 100 pages at 300 ms: 9 cursors wanted on one
    # queue partition, 11 parts paid for.
    stream = replace(running(10_000, 200_000, 190_000), seconds=30.0)
    assert parts_for(stream, [stream], 10, 32, queue_partitions=1) == (0, None)  # no bound
    bounded = replace(stream, created_gte=100_000)
    nine = [bounded, *(StreamState(name=f"s{n}") for n in range(8))]
    assert parts_for(bounded, nine, 10, 32, queue_partitions=1) == (0, None)  # 9 in flight
    seven = nine[:7]
    assert parts_for(bounded, seven, 10, 32, queue_partitions=1) == (3, 100_000)
    assert parts_for(bounded, [bounded], 10, 1, queue_partitions=1) == (0, None)  # no room
    assert parts_for(replace(bounded, done=True), [bounded], 10, 32,
                     queue_partitions=1) == (0, None)
    # 900 pages down to the partition's own bound would pay for 90; 9 are wanted.
    assert parts_for(bounded, [bounded], 10, 32, queue_partitions=1) == (9, 100_000)


def test_pages_left_is_zero_below_the_bound() -> None:
    assert pages_left(running(500, 200_000, 195_000), low=196_000) == 0.0
    assert pages_left(StreamState(name="charges"), low=0) == 0.0
