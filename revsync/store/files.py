"""Files and folders the product keeps: readable by their owner only.

The data folder holds the secret key, subscribers' emails and the outbox (SQLite), and
the dev server's history; nobody else on the machine needs to read any of it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make `path` (missing parents as `mkdir -p` would) and keep it for its owner alone;
    a folder owned by someone else is left as it is (it is theirs to share)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if it does not exist, and make it owner-only either way, before
    anything is written to it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    with contextlib.suppress(PermissionError):
        path.chmod(FILE_MODE)
    return path


def keep_private(*paths: Path) -> None:
    """Owner-only, those of `paths` that exist (files of an earlier, laxer run)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.chmod(FILE_MODE)


def with_journals(path: Path) -> tuple[Path, Path, Path]:
    """An SQLite database file and its WAL and shared-memory files."""
    return path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def open_private(path: Path) -> int:
    """A descriptor appending to the owner-only file `path` (for a child's output)."""
    private_file(path)
    return os.open(path, os.O_WRONLY | os.O_APPEND)
