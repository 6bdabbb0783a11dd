"""The feed's and the sink's settings refuse odd values with a message naming them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from revsync.settings import Settings


@pytest.mark.parametrize("values, message", [
    ({"sink_activity": "platform.receive"}, "REVSYNC_SINK_ACTIVITY and REVSYNC_SINK_TASK_QUEUE "
                                            "are set together, or neither"),
    ({"sink_task_queue": "platform-sink"}, "are set together, or neither"),
    ({"sink_activity": "", "sink_task_queue": "q"}, "at least 1 character"),
    ({"sink_batch_size": 0}, "greater than or equal to 1"),
    ({"sink_batch_size": 1001}, "less than or equal to 1000"),
    ({"sink_timeout_seconds": 0}, "greater than or equal to 1"),
    ({"feed_retention_days": 0}, "greater than or equal to 1"),
    ({"feed_retention_days": "a month"}, "valid integer"),
])
def test_odd_values_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**values)  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_a_whole_sink_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVSYNC_SINK_ACTIVITY", "platform.receive")
    monkeypatch.setenv("REVSYNC_SINK_TASK_QUEUE", "platform-sink")
    settings = Settings()
    assert (settings.sink_activity, settings.sink_task_queue, settings.sink_batch_size) == (
        "platform.receive", "platform-sink", 100)
