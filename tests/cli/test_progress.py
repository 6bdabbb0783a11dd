"""The sync's progress display: one line per stream, whatever its partitions."""

from __future__ import annotations

import pytest
from rich.console import Console

from revsync.cli import console as console_module
from revsync.cli.console import SyncProgress
from revsync.sync.types import DeriveCounts, StreamState, SyncReport


def test_one_line_per_stream_and_one_for_the_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = Console(record=True, width=120, force_terminal=False)
    monkeypatch.setattr(console_module, "console", screen)
    charges = [StreamState("charges", objects=100 * (n + 1), requests=n + 1, part=n,
                           done=n < 20) for n in range(22)]
    report = SyncReport(
        phase="streams",
        streams=[StreamState("customers", objects=3000, requests=30, done=True), *charges],
        derive=DeriveCounts(subscribers_seen=0),
    )

    with SyncProgress(subscribers=3000) as progress:
        progress.update(report)
    lines = [line for line in screen.export_text().splitlines() if line.strip()]

    assert [line.split()[0] for line in lines] == ["customers", "charges", "subscribers"]
    charges_line = lines[1]
    # 100 + 200 + ... + 2,200 objects; 1 + 2 + ... + 22 requests; parts 20 and 21 listing
    assert "25,300 objects, 253 requests, 2 of 22 ranges listing" in charges_line
    assert "#" not in "".join(lines)
