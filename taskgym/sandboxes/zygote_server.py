"""The program that runs *inside* a sandbox as the zygote: a warm ``python3 -I -S`` that
forks one child per program to run. Standard library only (taskgym is not importable in
the sandbox); the host sends :mod:`taskgym.sandboxes.wire` and this file as one program
with ``-c``.

Protocol on the zygote's stdin/stdout: each message is a 4-byte big-endian length and a
JSON object. Request: ``{"code", "stdin" (base64), "limits": {...}, "channel": bool,
"sweep": bool}``.
Reply: ``{"exit_code", "stdout", "stderr", "channel" (base64), "timed_out",
"stdout_truncated", "stderr_truncated", "channel_truncated"}``. A ``{"scrub": true}``
request instead empties the sandbox for the next episode (see ``_scrub``), a
``{"session": ...}`` request runs a program that talks with the host (see ``_session``),
and ``{"pair": ...}`` requests connect two zygotes of one sandbox, so that their session
children can talk to each other without the host (see ``_pair``).

The child: a fresh directory (removed afterwards), its own process group, rlimits, stdin
from memory, stdout/stderr/channel to pipes the zygote reads with caps, every other
descriptor closed (the control pipe included), then the program runs as ``__main__``
with Python's exit semantics. With ``sweep``, the zygote then kills every other process
it can (only where the sandbox has a pid namespace of its own). The zygote
makes itself non-dumpable first, so a child cannot reopen the control pipe through
``/proc/<zygote>/fd``.
"""

from __future__ import annotations

import atexit
import base64
import builtins
import contextlib
import ctypes
import fcntl
import os
import resource
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from typing import Any

# Inside the sandbox this import is replaced by wire.py's source (see zygote.py).
from taskgym.sandboxes.wire import read_message, write_message

_CHUNK = 65536
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
            write_message(control_out, _scrub())
            continue
        if "session" in request:
            write_message(control_out, _session(request["session"], control_in, control_out))
            continue
        if "pair" in request:
            write_message(control_out, _pair(request["pair"]))
            continue
        write_message(control_out, _run(request, (control_in, control_out)))


def _make_undumpable() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _run(request: dict[str, Any], control: tuple[int, int]) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="run-", dir=os.getcwd())
    try:
        return _run_in(request, workdir)
    finally:
        if request.get("sweep"):
            _sweep()
        shutil.rmtree(workdir, ignore_errors=True)


def _sweep() -> None:
    """Kill every process this one may signal but itself: in a sandbox with its own pid
    namespace, that is whatever a program left behind (a daemon that left its group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(-1, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _session(request: dict[str, Any], control_in: int, control_out: int) -> dict[str, Any]:
    """Run one program that talks with the host while it runs: the program reads
    messages on its stdin and answers on its stdout (the wire framing); the zygote
    passes them on. After ``{"session": {"code", "limits", "sweep", "peer"}}`` and the
    reply ``{"opened": true}``, each host request is ``{"send": message or null, "wait":
    s or null}``: the message is written to the program, and with ``wait`` the program's
    next message (at most ``limits["output_bytes"]``) comes back as ``{"message": ...}``,
    or ``{"message": null, "why": ...}``. ``{"end": true}`` stops the program; the reply
    to the session request itself comes then: ``{"ended": true}``.

    ``peer``: ``["give", token]`` or ``["take", token]`` in zygotes paired by
    :func:`_pair`: the giver makes two pipes for this session and sends one end of each
    to the taker, marked with the host's token, so that the two sessions' programs
    have a channel of their own, on file descriptors 3 (to the other program) and 4
    (from it). If the pipes cannot be given or taken, the reply is ``{"opened": false,
    "why": ...}`` and nothing runs.

    ``first``: a first ``{"send", "wait"}`` step, made right after the fork, its result
    merged into the ``opened`` reply (one round trip instead of two)."""
    limits = request["limits"]
    try:
        peer = _peer_pipes(request.get("peer"))
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
        _child(program, child_stdin, writers, limits, extra=peer)
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
        _reap(pid)
        if request.get("sweep"):
            _sweep()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"ended": True}


# The other zygote of a pair (see _pair): the tests' zygote gives each session's pipes to
# the candidates' zygote over this socket. Never inherited by a child (_child closes it).
_PEER: socket.socket | None = None
_LISTENER: socket.socket | None = None
_PAIR_SECONDS = 5.0


def _pair(request: dict[str, Any]) -> dict[str, Any]:
    """Connect this zygote with another of the same sandbox, through a Unix socket
    (``SOCK_SEQPACKET``: messages, and the descriptors sent with each, stay whole) in
    the work directory (both see it: bwrap binds it into each of its processes, docker
    and local share it): ``{"pair": {"op": "listen", "path"}}`` then ``{"pair": {"op":
    "accept", "secret"}}`` in one, ``{"pair": {"op": "connect", "path", "secret"}}`` in
    the other, between the two. The accepting side takes only a connection that presents
    the host's secret, then removes the socket's file; anything that could still reach
    the channel could only play the candidate, which is all the channel carries."""
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    op = request.get("op")
    try:
        if op == "listen":
            _forget_peer()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            listener.bind(request["path"])
            listener.listen(8)
            _LISTENER = listener
            return {"listening": True}
        if op == "connect":
            _forget_peer()
            peer = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            peer.settimeout(_PAIR_SECONDS)
            peer.connect(request["path"])
            peer.sendall(request["secret"].encode())
            _PEER = peer
            return {"paired": True}
        if op == "accept" and _LISTENER is not None:
            return _accept_peer(_LISTENER, request["secret"].encode())
    except (OSError, KeyError, TypeError, ValueError) as e:
        _forget_peer()
        return {"paired": False, "why": f"{type(e).__name__}: {e}"}
    return {"paired": False, "why": f"cannot {op!r} now"}


def _accept_peer(listener: socket.socket, secret: bytes) -> dict[str, Any]:
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    deadline = time.monotonic() + _PAIR_SECONDS
    try:
        while time.monotonic() < deadline:
            listener.settimeout(max(deadline - time.monotonic(), 0.001))
            connection, _ = listener.accept()
            connection.settimeout(max(deadline - time.monotonic(), 0.001))
            said = b""
            with contextlib.suppress(OSError):  # one message: the socket keeps them whole
                said = connection.recv(len(secret) + 1)
            if _same(said, secret):
                connection.settimeout(_PAIR_SECONDS)
                _PEER = connection
                return {"paired": True}
            connection.close()  # not the other zygote
        return {"paired": False, "why": "no zygote with the secret connected"}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(listener.getsockname())
        listener.close()
        _LISTENER = None


def _same(said: bytes, secret: bytes) -> bool:
    """``said == secret`` in time that does not depend on where they differ (hmac's
    compare_digest would import hashlib and OpenSSL into every zygote: 4 MB more for each
    fork to copy)."""
    if len(said) != len(secret):
        return False
    difference = 0
    for a, b in zip(said, secret, strict=True):
        difference |= a ^ b
    return difference == 0


def _forget_peer() -> None:
    global _PEER, _LISTENER  # noqa: PLW0603 - this process's one pairing
    for old in (_PEER, _LISTENER):
        if old is not None:
            with contextlib.suppress(OSError):
                if old is _LISTENER:
                    os.unlink(old.getsockname())
            old.close()
    _PEER = _LISTENER = None


def _peer_pipes(peer: Any) -> list[int]:
    """The session child's ends of its channel to the paired zygote's session child
    (to it, from it), or none. The giver sends the other ends with the host's token;
    the taker drops anything marked otherwise (a session of the giver's that never
    reached this side) until its own token comes."""
    if peer is None:
        return []
    role, token = peer
    if _PEER is None:
        raise ValueError("this zygote is not paired")
    mark = f"pipes {token}".encode()
    if role == "give":
        to_peer_r, to_peer_w = os.pipe()
        from_peer_r, from_peer_w = os.pipe()
        try:
            socket.send_fds(_PEER, [mark], [to_peer_r, from_peer_w])
        except OSError:
            for fd in (to_peer_w, from_peer_r):
                os.close(fd)
            raise
        finally:
            for fd in (to_peer_r, from_peer_w):
                os.close(fd)
        return [to_peer_w, from_peer_r]
    deadline = time.monotonic() + _PAIR_SECONDS
    while time.monotonic() < deadline:
        _PEER.settimeout(max(deadline - time.monotonic(), 0.001))
        said, fds, _, _ = socket.recv_fds(_PEER, 64, 2)
        if not said:
            raise ValueError("the paired zygote is gone")
        if said == mark and len(fds) == 2:
            from_peer, to_peer = fds
            return [to_peer, from_peer]
        for fd in fds:
            os.close(fd)
    raise ValueError("the paired zygote sent no pipes for this session")


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


# What a program may write to in the bwrap sandbox: its work directory (the zygote's
# cwd), its private /tmp, and /dev/shm.
_SCRATCH = (".", "/tmp", "/dev/shm")


def _scrub() -> dict[str, Any]:
    """Make the sandbox as new for the next episode without stopping the zygote: kill
    every other process, then empty every place a program could write. Only sent where
    the zygote has a pid namespace of its own. Reply ``left``: what could not go."""
    _sweep()
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


def _run_in(request: dict[str, Any], workdir: str) -> dict[str, Any]:
    limits = request["limits"]
    stdin = _memory_file(base64.b64decode(request["stdin"]))
    pipes = {"stdout": os.pipe(), "stderr": os.pipe()}
    if request.get("channel"):
        pipes["channel"] = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns
        os.chdir(workdir)
        _child(request["code"], stdin, {k: w for k, (_, w) in pipes.items()}, limits)
    os.close(stdin)
    for _, write_end in pipes.values():
        os.close(write_end)
    readers = {read_end: name for name, (read_end, _) in pipes.items()}
    outputs, truncated, timed_out = _collect(pid, readers, limits)
    status = _reap(pid)
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


def _reap(pid: int) -> int:
    _kill_group(pid)  # whatever the program left behind dies with it
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _child(
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


if __name__ == "__main__":
    main()
