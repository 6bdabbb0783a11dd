"""A stream's partitions add up into one line of progress."""

from __future__ import annotations

from revsync.sync.types import StreamState, StreamTotal, stream_totals


def test_partitions_add_up_into_their_stream_in_first_listed_order() -> None:
    streams = [
        StreamState("prices", objects=12, requests=1, done=True, catalogue=True),
        StreamState("charges", objects=400, requests=4, part=0),
        StreamState("customers", objects=250, requests=3, done=True),
        StreamState("charges", objects=150, requests=2, part=1, done=True),
        StreamState("charges", objects=75, requests=1, part=2),
    ]

    assert stream_totals(streams) == [
        StreamTotal("prices", catalogue=True, objects=12, requests=1, parts=1, parts_done=1),
        StreamTotal("charges", objects=625, requests=7, parts=3, parts_done=1),
        StreamTotal("customers", objects=250, requests=3, parts=1, parts_done=1),
    ]


def test_a_stream_is_done_only_when_every_partition_is() -> None:
    charges = [StreamState("charges", part=n, done=n != 2) for n in range(3)]
    (total,) = stream_totals(charges)
    assert not total.done

    charges[2].done = True
    (total,) = stream_totals(charges)
    assert total.done


def test_no_streams_no_lines() -> None:
    assert stream_totals([]) == []
