"""Worker processes for the kill tests: the product's workers in a process of their own,
so a test can SIGKILL one mid-sync and let another finish the same sync."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable

from temporalio.client import WorkflowHandle

from revsync.settings import Settings
from revsync.sync.types import SyncReport
from tests.helpers.e2e import ROOT, process_env


def worker_process(settings: Settings, temporal: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=ROOT,
                            env=process_env(settings, temporal),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def kill_and_finish(
    killed: subprocess.Popen[bytes], handle: WorkflowHandle[object, SyncReport],
    settings: Settings, temporal: str, before_restart: Callable[[], object] = lambda: None,
) -> SyncReport:
    """SIGKILL `killed`, start a fresh worker, and return the sync's result once it has
    finished on that worker (at most three minutes)."""
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    before_restart()
    second = worker_process(settings, temporal)
    try:
        return await asyncio.wait_for(handle.result(follow_runs=True), timeout=180)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
