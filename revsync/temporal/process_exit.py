"""Leaving a process that used a Temporal client.

Temporal's Rust core keeps threads that can call back into Python while the
interpreter finalizes; we saw this abort a finished process ("Fatal Python error:
PyGILState_Release ... finalizing", exit -6) after its work was done and printed. A
command's exit code must say whether the sync succeeded, so commands that talked to
Temporal flush their output and leave without interpreter finalization.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout/stderr and exit with `code`, skipping interpreter finalization."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
