"""The zygote's fork-and-run of one program (see :mod:`taskgym.inside.zygote_server`):
a fresh directory, a child that runs the program as ``__main__`` under limits, its
output read with caps until it ends or its time runs out.

The child (:func:`run_child`, also the child of a session): its own process group,
rlimits, stdin from memory, stdout/stderr/channel to pipes the zygote reads with caps,
every other descriptor closed (the zygote's control pipe included), then the program
runs with Python's exit semantics. With ``sweep``, the zygote then kills every other
process it can (only where the sandbox has a pid namespace of its own).
"""

from __future__ import annotations

import atexit
import base64
import builtins
import contextlib
import fcntl
import os
import resource
import selectors
import shutil
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

_CHUNK = 65536


def run_program(request: dict[str, Any]) -> dict[str, Any]:
    """Run one program as the request says (see :mod:`taskgym.inside.zygote_server`)."""
    workdir = tempfile.mkdtemp(prefix="run-", dir=os.getcwd())
    try:
        return _run_in(request, workdir)
    finally:
        if request.get("sweep"):
            sweep()
        shutil.rmtree(workdir, ignore_errors=True)


def sweep() -> None:
    """Kill every process this one may signal but itself: in a sandbox with its own pid
    namespace, that is whatever a program left behind (a daemon that left its group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(-1, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _run_in(request: dict[str, Any], workdir: str) -> dict[str, Any]:
    limits = request["limits"]
    stdin = _memory_file(base64.b64decode(request["stdin"]))
    pipes = {"stdout": os.pipe(), "stderr": os.pipe()}
    if request.get("channel"):
        pipes["channel"] = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns
        os.chdir(workdir)
        run_child(request["code"], stdin, {k: w for k, (_, w) in pipes.items()}, limits)
    os.close(stdin)
    for _, write_end in pipes.values():
        os.close(write_end)
    readers = {read_end: name for name, (read_end, _) in pipes.items()}
    outputs, truncated, timed_out = _collect(pid, readers, limits)
    status = reap(pid)
    reply: dict[str, Any] = {
        "exit_code": status,
        "timed_out": timed_out,
        "channel": "",
        "channel_truncated": False,
    }
    for name in pipes:
        reply[name] = base64.b64encode(bytes(outputs[name])).decode()
        reply[f"{name}_truncated"] = truncated[name]
    return reply


def _memory_file(data: bytes) -> int:
    fd = os.memfd_create("stdin") if hasattr(os, "memfd_create") else _temp_fd()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _temp_fd() -> int:
    return os.dup(tempfile.TemporaryFile().fileno())


def _collect(
    pid: int, readers: dict[int, str], limits: dict[str, Any]
) -> tuple[dict[str, bytearray], dict[str, bool], bool]:
    """Read the child's pipes until they close, its time runs out, or a moment after it
    exits (what it left behind is killed then, so the pipes close)."""
    deadline = time.monotonic() + float(limits["wall_seconds"])
    cap = int(limits["output_bytes"])
    outputs = {name: bytearray() for name in readers.values()}
    truncated = dict.fromkeys(readers.values(), False)
    exit_fd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    exited_at: float | None = None
    timed_out = False
    with selectors.DefaultSelector() as selector:
        for fd, name in readers.items():
            selector.register(fd, selectors.EVENT_READ, name)
        if exit_fd is not None:
            selector.register(exit_fd, selectors.EVENT_READ, None)
        while any(key.data for key in selector.get_map().values()):
            now = time.monotonic()
            if exited_at is None and (exit_fd is None or now >= deadline) and _exited(pid):
                exited_at = now
            if exited_at is not None and now - exited_at > 0.2:
                break
            if now >= deadline:
                timed_out = exited_at is None
                _kill_group(pid)
                break
            slice_ = deadline - now if exit_fd is not None else min(deadline - now, 0.01)
            for key, _ in selector.select(timeout=slice_):
                if key.data is None:  # the child exited: leftovers die, pipes close
                    selector.unregister(key.fd)
                    exited_at = time.monotonic()
                    _kill_group(pid)
                    continue
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buf = outputs[key.data]
                room = cap - len(buf)
                if len(chunk) > room:
                    truncated[key.data] = True
                buf += chunk[: max(room, 0)]
    for fd in readers:
        os.close(fd)
    if exit_fd is not None:
        os.close(exit_fd)
    return outputs, truncated, timed_out


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def reap(pid: int) -> int:
    _kill_group(pid)  # whatever the program left behind dies with it
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run_child(
    code: Any,
    stdin: int,
    writers: dict[str, int],
    limits: dict[str, Any],
    extra: list[int] | tuple[int, ...] = (),
) -> None:
    """The child's side of a fork: descriptors in place (stdin, stdout, stderr, then
    the value channel or ``extra`` from 3 up), every other one closed, limits applied,
    and ``code`` run; never returns."""
    status = 1
    try:
        os.setpgid(0, 0)
        wanted = [stdin, writers["stdout"], writers["stderr"]]
        wanted += [writers["channel"]] if "channel" in writers else list(extra)
        keep = len(wanted)
        # Copies above the targets first: a source may sit on another one's target.
        above = [fcntl.fcntl(fd, fcntl.F_DUPFD, keep) for fd in wanted]
        for target, fd in enumerate(above):
            os.dup2(fd, target)
        os.closerange(keep, _max_fd())
        _apply_limits(limits)
        sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.argv = ["main.py"]
        status = _run_as_main(code)
    finally:
        os._exit(status)


def _max_fd() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 65536


def _apply_limits(limits: dict[str, Any]) -> None:
    cpu = int(limits["cpu_seconds"])
    _lower(resource.RLIMIT_CPU, cpu, cpu + 1)
    _lower(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _lower(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    _lower(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _lower(resource.RLIMIT_CORE, 0)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above the hard limit the zygote itself was given."""
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def _run_as_main(code: Any) -> int:
    """Run ``code`` like ``python3 main.py``: exit status from SystemExit, traceback
    and status 1 on an uncaught exception, atexit handlers run, streams flushed."""
    status = 0
    try:
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": "main.py"}
        program = code if not isinstance(code, str) else compile(code, "main.py", "exec")
        exec(program, namespace)  # running it is the point
    except SystemExit as e:
        status = _exit_status(e.code)
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        atexit._run_exitfuncs()
    except BaseException:
        status = status or 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            status = status or 120  # as Python does when stdout cannot be flushed
    return status


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
