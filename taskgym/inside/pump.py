"""Feeding a child's stdin and collecting its capped output until it ends or its time
runs out: the core of every ``run()``.

Used on both sides: the local backend and shell sessions import it on the host, and the
docker backend sends this source into its containers, ahead of :mod:`.exec_server`, so
that a command behaves the same in every backend.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from typing import NamedTuple

# After the command exits, how long to keep reading output that its leftover children
# (killed at that moment) may still have in the pipes.
_DRAIN_GRACE_SECONDS = 0.2
_READ_CHUNK = 65536


class Done(NamedTuple):
    """What a command did (the fields of ExecResult, in its order)."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    timed_out: bool
    stdout_truncated: bool
    stderr_truncated: bool


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def read_ready(fd: int, selector: selectors.BaseSelector, deadline: float) -> bytes | None:
    """The next bytes of the non-blocking ``fd`` registered in ``selector`` (``b""`` at
    its end), or None once ``deadline`` (``time.monotonic()``) has passed."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return os.read(fd, _READ_CHUNK)
        except BlockingIOError:
            selector.select(timeout=remaining)


def end_process(proc: subprocess.Popen[bytes], *, wait_seconds: float | None = 5.0) -> None:
    """Kill a long-lived process's whole group (it leads one), close its pipes and reap
    it (``wait_seconds`` at most; None waits as long as it takes)."""
    kill_group(proc.pid)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait_seconds)


def communicate(
    proc: subprocess.Popen[bytes], stdin: bytes, wall_seconds: float, output_bytes: int
) -> Done:
    """Feed stdin and collect capped output until the command ends or its time runs out.

    Unlike ``Popen.communicate`` this never holds more than ``output_bytes`` a stream
    however much is printed, and it stops when the command exits even if a child it left
    behind still holds the pipes open.
    """
    pump = _Pump(proc, stdin, output_bytes)
    try:
        timed_out = pump.run(deadline=time.monotonic() + wall_seconds)
    finally:
        # Whatever happened (even KeyboardInterrupt), nothing of the command survives.
        pump.close()
        kill_group(proc.pid)
        proc.wait()
    return Done(
        exit_code=proc.returncode,
        stdout=bytes(pump.output[pump.out_fd]),
        stderr=bytes(pump.output[pump.err_fd]),
        timed_out=timed_out,
        stdout_truncated=pump.truncated[pump.out_fd],
        stderr_truncated=pump.truncated[pump.err_fd],
    )


class _Pump:
    """Moves bytes between a child's pipes and memory with one selector."""

    def __init__(self, proc: subprocess.Popen[bytes], stdin: bytes, cap: int) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        self.proc, self.stdin, self.cap, self.sent = proc, stdin, cap, 0
        self.pipes = (proc.stdin, proc.stdout, proc.stderr)
        self.in_fd, self.out_fd, self.err_fd = (p.fileno() for p in self.pipes)
        self.output = {self.out_fd: bytearray(), self.err_fd: bytearray()}
        self.truncated = {self.out_fd: False, self.err_fd: False}
        self.selector = selectors.DefaultSelector()
        for fd in (self.in_fd, self.out_fd, self.err_fd):
            os.set_blocking(fd, False)
        # Registrations are tagged by role: descriptor numbers are reused as soon as one
        # is closed (the pidfd often gets the number stdin just gave up).
        self.selector.register(self.out_fd, selectors.EVENT_READ, "output")
        self.selector.register(self.err_fd, selectors.EVENT_READ, "output")
        if stdin:
            self.selector.register(self.in_fd, selectors.EVENT_WRITE, "stdin")
        else:
            proc.stdin.close()
        self.exit_fd = _open_pidfd(proc.pid)
        if self.exit_fd is not None:
            self.selector.register(self.exit_fd, selectors.EVENT_READ, "exit")

    def run(self, deadline: float) -> bool:
        """Pump until the command has exited and its output pipes are closed (or the
        grace after its exit ends); True if the deadline passed while it still ran."""
        exited_at: float | None = None
        while True:
            now = time.monotonic()
            if exited_at is None and self.proc.poll() is not None:
                exited_at = now
                kill_group(self.proc.pid)  # leftovers die with the command
                if self.exit_fd is not None:
                    self.selector.unregister(self.exit_fd)
            if exited_at is not None and (
                not self._output_open() or now - exited_at > _DRAIN_GRACE_SECONDS
            ):
                return False
            if now >= deadline:
                return True
            # With a pidfd the selector wakes at the exit itself; without, poll often.
            timeout = deadline - now if self.exit_fd is not None else min(deadline - now, 0.005)
            if exited_at is not None:
                timeout = min(timeout, exited_at + _DRAIN_GRACE_SECONDS - now)
            for key, _ in self.selector.select(timeout=max(timeout, 0.0)):
                if key.data == "stdin":
                    self._write_stdin()
                elif key.data == "output":
                    self._read(key.fd)

    def _output_open(self) -> bool:
        return any(key.data == "output" for key in self.selector.get_map().values())

    def _write_stdin(self) -> None:
        try:
            self.sent += os.write(self.in_fd, self.stdin[self.sent : self.sent + _READ_CHUNK])
        except BrokenPipeError:
            self.sent = len(self.stdin)
        if self.sent >= len(self.stdin):
            self.selector.unregister(self.in_fd)
            self.pipes[0].close()

    def _read(self, fd: int) -> None:
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            self.selector.unregister(fd)
            return
        buf = self.output[fd]
        room = self.cap - len(buf)
        if len(chunk) > room:
            self.truncated[fd] = True
        buf += chunk[: max(room, 0)]

    def close(self) -> None:
        self.selector.close()
        if self.exit_fd is not None:
            os.close(self.exit_fd)
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.close()


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (Linux 5.3+), or None."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        fd: int = pidfd_open(pid)
    except OSError:
        return None
    return fd
