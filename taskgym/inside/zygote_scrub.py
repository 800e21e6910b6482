"""Making a sandbox as new for the next episode without stopping its zygote (see
:func:`scrub_sandbox`).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from taskgym.inside.zygote_run import sweep

# What a program may write to in the bwrap sandbox: its work directory (the zygote's
# cwd), its private /tmp, and /dev/shm.
_SCRATCH = (".", "/tmp", "/dev/shm")


def scrub_sandbox() -> dict[str, Any]:
    """Make the sandbox as new for the next episode without stopping the zygote: kill
    every other process, then empty every place a program could write. Only sent where
    the zygote has a pid namespace of its own. Reply ``left``: what could not go."""
    sweep()
    _wait_until_alone()  # a killed process may still finish a write: wait for it to go
    left = []
    for place in _SCRATCH:
        with contextlib.suppress(OSError):
            for entry in os.listdir(place):
                _remove(os.path.join(place, entry))
        with contextlib.suppress(OSError):
            left += [os.path.join(place, entry) for entry in os.listdir(place)]
    return {"scrubbed": True, "left": left}


def _wait_until_alone(seconds: float = 2.0) -> None:
    """Until only the namespace's init (pid 1) and this process are left in /proc."""
    mine = {"1", str(os.getpid())}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not {entry for entry in os.listdir("/proc") if entry.isdigit()} - mine:
            return
        time.sleep(0.002)


def _remove(path: str) -> None:
    """Delete ``path`` and what is under it, making read-only directories writable
    first (a program may chmod its files to stay)."""
    if os.path.isdir(path) and not os.path.islink(path):
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        with contextlib.suppress(OSError):
            for entry in os.listdir(path):
                _remove(os.path.join(path, entry))
        with contextlib.suppress(OSError):
            os.rmdir(path)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)
