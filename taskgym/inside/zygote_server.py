"""The program that runs *inside* a sandbox as the zygote: a warm ``python3 -I -S`` that
forks one child per program to run. The host (:mod:`taskgym.sandboxes.zygote`) sends it
as one program with ``-c``, after the modules it imports (:mod:`.wire` and the other
``zygote_*`` modules of this package).

Protocol on the zygote's stdin/stdout: each message is a 4-byte big-endian length and a
JSON object. Request: ``{"code", "stdin" (base64), "limits": {...}, "channel": bool,
"sweep": bool}``.
Reply: ``{"exit_code", "stdout", "stderr", "channel" (base64), "timed_out",
"stdout_truncated", "stderr_truncated", "channel_truncated"}``. A ``{"scrub": true}``
request instead empties the sandbox for the next episode (see :mod:`.zygote_scrub`), a
``{"session": ...}`` request runs a program that talks with the host (see
:mod:`.zygote_sessions`), and ``{"pair": ...}`` requests connect two zygotes of one
sandbox, so that their session children can talk to each other without the host (see
:mod:`.zygote_pairing`).

Each program runs in a forked child (see :mod:`.zygote_run`). The zygote makes itself
non-dumpable first, so a child cannot reopen the control pipe through
``/proc/<zygote>/fd``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

# Inside the sandbox these imports are replaced by the modules' sources (see
# taskgym.sandboxes.compose).
from taskgym.inside.wire import read_message, write_message
from taskgym.inside.zygote_pairing import pair
from taskgym.inside.zygote_run import run_program
from taskgym.inside.zygote_scrub import scrub_sandbox
from taskgym.inside.zygote_sessions import run_session

_PR_SET_DUMPABLE = 4


def main() -> None:
    _make_undumpable()
    for name in sys.argv[1:]:  # modules to preload, so children start with them imported
        __import__(name)
    control_in, control_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)  # nothing may reach the control channel by accident
    os.close(devnull)
    write_message(control_out, {"ready": True, "pid": os.getpid()})
    while True:
        request = read_message(control_in)
        if request is None:
            return
        if request.get("scrub"):
            write_message(control_out, scrub_sandbox())
            continue
        if "session" in request:
            write_message(control_out, run_session(request["session"], control_in, control_out))
            continue
        if "pair" in request:
            write_message(control_out, pair(request["pair"]))
            continue
        write_message(control_out, run_program(request))


def _make_undumpable() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


if __name__ == "__main__":
    main()
