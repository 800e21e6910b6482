"""The zygote's sessions: a program that talks with the host while it runs, each
message passed on by the zygote (see :func:`run_session`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from taskgym.inside.wire import read_message, write_message
from taskgym.inside.zygote_pairing import peer_pipes
from taskgym.inside.zygote_run import reap, run_child, sweep


def run_session(request: dict[str, Any], control_in: int, control_out: int) -> dict[str, Any]:
    """Run one program that talks with the host while it runs: the program reads
    messages on its stdin and answers on its stdout (the wire framing); the zygote
    passes them on. After ``{"session": {"code", "limits", "sweep", "peer"}}`` and the
    reply ``{"opened": true}``, each host request is ``{"send": message or null, "wait":
    s or null}``: the message is written to the program, and with ``wait`` the program's
    next message (at most ``limits["output_bytes"]``) comes back as ``{"message": ...}``,
    or ``{"message": null, "why": ...}``. ``{"end": true}`` stops the program; the reply
    to the session request itself comes then: ``{"ended": true}``.

    ``peer``: ``["give", token]`` or ``["take", token]`` in zygotes paired by
    :func:`pair`: the giver makes two pipes for this session and sends one end of each
    to the taker, marked with the host's token, so that the two sessions' programs
    have a channel of their own, on file descriptors 3 (to the other program) and 4
    (from it). If the pipes cannot be given or taken, the reply is ``{"opened": false,
    "why": ...}`` and nothing runs.

    ``first``: a first ``{"send", "wait"}`` step, made right after the fork, its result
    merged into the ``opened`` reply (one round trip instead of two)."""
    limits = request["limits"]
    try:
        peer = peer_pipes(request.get("peer"))
    except (OSError, ValueError) as e:
        return {"opened": False, "why": f"no channel to the paired zygote: {e}"}
    workdir = tempfile.mkdtemp(prefix="run-", dir=os.getcwd())
    program = _compiled(request["code"])
    child_stdin, to_child = os.pipe()  # os.pipe() is (read end, write end)
    from_child, child_stdout = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns
        os.chdir(workdir)
        devnull = os.open(os.devnull, os.O_WRONLY)
        writers = {"stdout": child_stdout, "stderr": devnull}
        run_child(program, child_stdin, writers, limits, extra=peer)
    for fd in (child_stdin, child_stdout, *peer):
        os.close(fd)
    os.set_blocking(from_child, False)
    try:
        opened: dict[str, Any] = {"opened": True}
        if "first" in request:  # the first exchange, in the same round trip as the fork
            opened |= _exchange(request["first"], to_child, from_child, limits)
        write_message(control_out, opened)
        while True:
            step = read_message(control_in)
            if step is None or step.get("end"):
                break
            write_message(control_out, _exchange(step, to_child, from_child, limits))
    finally:
        for fd in (to_child, from_child):
            os.close(fd)
        reap(pid)
        if request.get("sweep"):
            sweep()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"ended": True}


_COMPILED: dict[str, Any] = {}


def _compiled(code: str) -> Any:
    """A session's program compiled once and kept: sessions run the caller's own
    programs (the untrusted code arrives later, as messages), so compiling here is safe,
    and it saves every child the compile. Source that does not compile is left for the
    child to fail on, with the usual traceback."""
    program = _COMPILED.get(code)
    if program is None:
        try:
            program = compile(code, "main.py", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return code
        if len(_COMPILED) >= 16:
            _COMPILED.clear()
        _COMPILED[code] = program
    return program


def _exchange(
    step: dict[str, Any], to_child: int, from_child: int, limits: dict[str, Any]
) -> dict[str, Any]:
    try:
        if step.get("send") is not None:
            write_message(to_child, step["send"])
        if step.get("wait") is None:
            return {"sent": True}
        deadline = time.monotonic() + float(step["wait"])
        message = read_message(from_child, deadline, max_bytes=int(limits["output_bytes"]))
    except TimeoutError:
        return {"message": None, "why": "it ran out of time"}
    except (OSError, ValueError) as e:  # a closed pipe, a lying length, bad JSON
        return {"message": None, "why": f"the program broke the protocol: {e}"}
    if message is None:
        return {"message": None, "why": "the program ended"}
    return {"message": message}
