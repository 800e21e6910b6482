"""The program a docker sandbox's container runs: it executes commands for the host over
one open stream, so a command costs a message instead of a ``docker exec``.

The host (:mod:`taskgym.sandboxes.docker`) sends :mod:`.wire`, :mod:`.pump`,
:mod:`.scrub` and this file as one program with ``python3 -I -S -c`` (taskgym is not
installed in the image).
Messages are 4-byte big-endian lengths and JSON:

- ``{"op": "run", "argv", "stdin" (base64), "limits", "env"}`` -> ``{"exit_code",
  "stdout", "stderr" (base64), "timed_out", "stdout_truncated", "stderr_truncated"}``.
  Each command runs in its own session with rlimits; its process group is killed at its
  time-out and as soon as it exits.
- ``{"op": "signal_descendants", "pid", "signal", "include_root"}`` -> ``{"signalled":
  n}``: Ctrl-C for a shell session's command (the shell itself spared unless asked).
- ``{"op": "kill_all_but_me"}``: every process but the server and init, for reset().
- ``{"op": "scrub", "uid", "empty"}`` -> ``{"stayed": [...]}``: empty the directories in
  ``empty`` and remove what ``uid`` left anywhere else (see
  :mod:`.scrub`), for reset(); done in this process as that user.

Every command is the first the kernel's OOM killer takes (``oom_score_adj`` 1000, as
the host asks of ``docker exec``'s processes): when the container's memory is full the
server is taken last, and reset() can free it.

The server exits when its input closes: the container (run with ``--rm``) goes with it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import resource
import subprocess
from collections.abc import Callable
from typing import Any

# Inside a container these imports are replaced by the modules' sources (see
# taskgym.sandboxes.compose).
from taskgym.inside.pump import communicate
from taskgym.inside.scrub import scrub_user
from taskgym.inside.wire import read_message, write_message

_SANDBOX_UID = int(os.environ.get("TASKGYM_SANDBOX_UID", "65534"))


def main() -> None:
    control_in, control_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    write_message(control_out, {"ready": True})
    while True:
        request = read_message(control_in)
        if request is None:
            return
        try:
            reply = _handle(request)
        except Exception as e:  # report, never die: the host decides what a failure means
            reply = {"error": f"{type(e).__name__}: {e}"}
        write_message(control_out, reply)


def _handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "run":
        return _run(request)
    if op == "signal_descendants":
        pid, sig = int(request["pid"]), int(request["signal"])
        count = _signal_descendants(pid, sig)
        if request.get("include_root"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
                count += 1
        return {"signalled": count}
    if op == "kill_all_but_me":
        # Every process but this server and the container's init: what reset() owes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(-1, 9)
        return {"killed": True}
    if op == "scrub":
        uid = int(request["uid"])
        return {"stayed": _as_user(uid, lambda: scrub_user(uid, list(request["empty"])))}
    if op == "ping":
        return {"pong": True}
    raise ValueError(f"unknown op {op!r}")


def _run(request: dict[str, Any]) -> dict[str, Any]:
    limits = request["limits"]
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/work",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **request.get("env", {}),
    }
    try:
        proc = subprocess.Popen(
            request["argv"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd="/work",
            env=env,
            start_new_session=True,
            # A preexec_fn is cheap here: this server is a small process.
            preexec_fn=lambda: _apply_limits(limits),  # noqa: PLW1509
        )
    except FileNotFoundError:
        return _reply(127, b"", f"{request['argv'][0]}: command not found\n".encode(), False)
    except PermissionError:
        return _reply(126, b"", f"{request['argv'][0]}: permission denied\n".encode(), False)
    done = communicate(
        proc, base64.b64decode(request["stdin"]), limits["wall_seconds"], limits["output_bytes"]
    )
    reply = _reply(done.exit_code, done.stdout, done.stderr, done.timed_out)
    reply["stdout_truncated"] = done.stdout_truncated
    reply["stderr_truncated"] = done.stderr_truncated
    return reply


def _as_user(uid: int, call: Callable[[], list[str]]) -> list[str]:
    """``call()`` with ``uid`` as the effective user and group (the server, root without
    CAP_DAC_OVERRIDE, could not enter the user's directories), then root again."""
    os.setgroups([])
    os.setegid(uid)
    os.seteuid(uid)
    try:
        return call()
    finally:
        os.seteuid(0)
        os.setegid(0)


def _apply_limits(limits: dict[str, Any]) -> None:
    # RLIMIT_NPROC counts every thread of the user: what it runs now, plus the command's
    # share (commands drop to this uid right after; rlimits survive the change).
    nproc = _count_threads_of(_SANDBOX_UID) + int(limits["processes"])
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (int(limits["memory_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


def _reply(code: int, out: bytes, err: bytes, timed_out: bool) -> dict[str, Any]:
    return {
        "exit_code": code,
        "stdout": base64.b64encode(out).decode(),
        "stderr": base64.b64encode(err).decode(),
        "timed_out": timed_out,
        "stdout_truncated": False,
        "stderr_truncated": False,
    }


def _count_threads_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
    return count


def _signal_descendants(pid: int, sig: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    count, stack = 0, list(children.get(pid, []))
    while stack:
        child = stack.pop()
        stack.extend(children.get(child, []))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, sig)
            count += 1
    return count


if __name__ == "__main__":
    main()
