"""Created-time partitions: disjoint, complete, and only where they pay."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from revsync.sync.partitions import boundaries, lower_bound, split
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
