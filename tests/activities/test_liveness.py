"""`kept_alive` heartbeats while an activity runs, repeats the latest progress, and keeps
beating after a heartbeat fails (a stopped helper would let a second attempt start).
`progress` sends nothing itself: each heartbeat is a billed action, so a short activity
reporting every page sends none."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from revsync.activities import liveness


def test_the_helper_repeats_progress_and_survives_a_failed_heartbeat(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "EVERY", 0.01)
    seen: list[tuple[Any, ...]] = []
    enough = threading.Event()

    def on_heartbeat(*details: Any) -> None:
        seen.append(details)
        if len(seen) == 2:
            raise RuntimeError("the worker's event loop was busy")
        if len(seen) >= 5:
            enough.set()

    @liveness.kept_alive
    def work() -> str:
        liveness.progress("cursor", 7)
        assert enough.wait(10), "the helper stopped beating"
        return "done"

    env = ActivityEnvironment()
    env.on_heartbeat = on_heartbeat
    assert env.run(work) == "done"
    assert all(details == ("cursor", 7) for details in seen)  # carried by the helper
    assert len(seen) >= 5  # kept going after the failure at the second beat


def test_progress_rides_on_the_helpers_beats_and_sends_none_itself() -> None:
    seen: list[tuple[Any, ...]] = []

    @liveness.kept_alive
    def pages() -> int:
        assert activity.info().heartbeat_timeout is None  # first beat after EVERY
        for page in range(20):
            liveness.progress("cursor", page)
        return page

    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: seen.append(details)
    assert env.run(pages) == 19
    assert seen == []  # done before the helper's first beat: no heartbeat, no action
