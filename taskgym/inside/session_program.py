"""What the grading programs share, each run as a zygote session (see
:mod:`.zygote_sessions`): the host's pipes taken off stdin and stdout, the process made
non-dumpable first when it will hold tests, and the sandbox's work directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

_PR_SET_DUMPABLE = 4


def control_pipes() -> tuple[int, int]:
    """The host's pipes, moved off stdin/stdout so nothing else can write to them."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    return read_fd, write_fd


def private_control_pipes() -> tuple[int, int]:
    """For a process that will hold tests: non-dumpable first (its memory and /proc
    entries closed to the candidate), then the host's pipes (see :func:`control_pipes`)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    return control_pipes()


def session_workdir() -> str:
    """The work directory: the zygote runs each session in a directory of its own in it."""
    return os.path.dirname(os.getcwd())
