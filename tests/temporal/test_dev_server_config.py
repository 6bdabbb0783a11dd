"""The embedded dev server's dynamic config: one partition per queue unless told, fairness
when asked, and a bad partition count refused before anything starts."""

from __future__ import annotations

import pytest

from revsync.temporal.dev_server import TemporalServerError, dynamic_config_args


def values(args: list[str]) -> dict[str, str]:
    assert args[::2] == ["--dynamic-config-value"] * (len(args) // 2)
    return dict(arg.split("=", 1) for arg in args[1::2])


def test_one_partition_and_no_fairness_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVSYNC_DEV_SERVER_PARTITIONS", raising=False)
    monkeypatch.delenv("REVSYNC_DEV_SERVER_FAIRNESS", raising=False)
    assert values(dynamic_config_args()) == {"matching.numTaskqueueReadPartitions": "1",
                                             "matching.numTaskqueueWritePartitions": "1"}


def test_partitions_and_fairness_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_DEV_SERVER_PARTITIONS", "4")
    monkeypatch.setenv("REVSYNC_DEV_SERVER_FAIRNESS", "yes")
    assert values(dynamic_config_args()) == {"matching.numTaskqueueReadPartitions": "4",
                                             "matching.numTaskqueueWritePartitions": "4",
                                             "matching.enableFairness": "true"}


@pytest.mark.parametrize("bad", ["0", "65", "four", "-1", "2.5"])
def test_a_bad_partition_count_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("REVSYNC_DEV_SERVER_PARTITIONS", bad)
    with pytest.raises(TemporalServerError, match="number of partitions from 1 to 64"):
        dynamic_config_args()
