"""One zygote process, kept alive: started through its sandbox, spoken to one message
at a time under a lock, restarted when a program killed or hung it. What is done with
it (programs, sessions, scrubs, pairing) is built on this base in the modules beside it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

from taskgym.closing import Closing
from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.inside.wire import encode_message, read_message
from taskgym.sandboxes.base import Sandbox
from taskgym.sandboxes.compose import compose_source

__all__ = ["REPLY_MARGIN_SECONDS", "ZygoteProcess", "receive", "send"]

_SERVER_SOURCE = compose_source(
    "wire", "zygote_run", "zygote_pairing", "zygote_sessions", "zygote_scrub", "zygote_server"
)
# The zygote itself runs for a long time: its own CPU clock must not run out. Each
# program's limits are applied in its child.
_ZYGOTE_CPU_SECONDS = 10**7
REPLY_MARGIN_SECONDS = 5.0
"""How long past a program's own time limit the host waits for the zygote's reply."""


class ZygoteProcess(Closing):
    """A warm Python in ``sandbox`` (see :class:`~taskgym.sandboxes.zygote.Zygote`, which
    adds what it is for). The other modules of this package share its state: the lock
    held for each exchange, the process, its incarnation and pairing.

    Args:
        sandbox: the sandbox to run in (its backend must support ``start_process``).
        preload: modules to import once in the zygote, so every program finds them loaded.
        python: the interpreter inside the sandbox.
    """

    def __init__(
        self, sandbox: Sandbox, *, preload: Sequence[str] = (), python: str = "python3"
    ) -> None:
        self._sandbox = sandbox
        self._argv = [python, "-I", "-S", "-c", _SERVER_SOURCE, *preload]
        # Only where the zygote has a pid namespace of its own (bwrap starts one for every
        # process) may it kill "every process but itself" after each program; in docker
        # that would take the sandbox's shells with it, and reset() does it instead.
        self._sweep = sandbox.backend == "bwrap"
        self._lock = threading.Lock()
        self._closed = False
        # Which process this is (a new one after a restart), and the other zygote it is
        # paired with, at that one's incarnation (see pair_zygotes).
        self._incarnation = 0
        self._peer: tuple[ZygoteProcess, int] | None = None
        # A session's end was sent and its reply not read yet (see sessions).
        self._ending = False
        self._proc = self._start()
        self._generation = sandbox.generation

    @property
    def usable(self) -> bool:
        """Open, and its sandbox has not been reset or closed since it started."""
        return (
            not self._closed
            and not self._sandbox.closed
            and self._sandbox.generation == self._generation
        )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._ending = False
            _stop(self._proc)

    def _replace_after_failure(self) -> None:
        """:meth:`_replace`, when the caller reports the failure that led to it."""
        with contextlib.suppress(SandboxError):
            self._replace()

    def _replace(self) -> None:
        """Start another zygote (a program killed or hung this one), unless its sandbox
        is gone (SandboxClosedError then)."""
        if self._sandbox.closed or self._sandbox.generation != self._generation:
            self._closed = True
            _stop(self._proc)
            raise SandboxClosedError("this zygote's sandbox was reset or closed")
        self._restart()

    def _start(self) -> subprocess.Popen[bytes]:
        limits = self._sandbox.limits.replace(cpu_seconds=_ZYGOTE_CPU_SECONDS)
        proc = self._sandbox.start_process(self._argv, limits=limits)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        try:
            ready = receive(proc, time.monotonic() + 30)
        except (OSError, EOFError, TimeoutError) as e:
            err = _drain_stderr(proc)
            _stop(proc)
            raise SandboxError(
                f"the zygote did not start in the {self._sandbox.backend} sandbox: {err!r}"
            ) from e
        if not ready.get("ready"):
            _stop(proc)
            raise SandboxError(f"the zygote said {ready!r} instead of ready")
        return proc

    def _restart(self) -> None:
        _stop(self._proc)
        self._peer = None
        self._ending = False
        self._incarnation += 1
        self._proc = self._start()

    def _request(self, message: dict[str, Any], seconds: float = REPLY_MARGIN_SECONDS) -> Any:
        """One request and its reply, under the caller's hold of the lock; a zygote
        that does not answer is restarted (OSError, EOFError or TimeoutError raised)."""
        self._settle()
        try:
            send(self._proc, message)
            return receive(self._proc, time.monotonic() + seconds)
        except (OSError, ValueError, EOFError, TimeoutError):
            self._replace_after_failure()
            raise

    def _settle(self) -> None:
        """Read the reply to a session's end sent without waiting for it (``sessions(...,
        settle_later=True)``), under the caller's hold of the lock, before anything else
        is asked of this zygote: it answers once the session's programs are stopped
        and their directory gone, so nothing of that session outlives this call."""
        if not self._ending:
            return
        self._ending = False
        try:
            ended = receive(self._proc, time.monotonic() + REPLY_MARGIN_SECONDS)
        except (OSError, ValueError, EOFError, TimeoutError):
            ended = None
        if ended != {"ended": True}:
            self._replace_after_failure()


def send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    """Write one message to the zygote ``proc``."""
    assert proc.stdin is not None
    proc.stdin.write(encode_message(message))
    proc.stdin.flush()


def receive(proc: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    """The zygote ``proc``'s next message, by ``deadline`` (TimeoutError, or EOFError
    when it closed its pipe)."""
    assert proc.stdout is not None
    message = read_message(proc.stdout.fileno(), deadline)
    if message is None:
        raise EOFError("the zygote closed its pipe")
    return message


def _drain_stderr(proc: subprocess.Popen[bytes]) -> str:
    if proc.stderr is None:
        return ""
    os.set_blocking(proc.stderr.fileno(), False)
    with contextlib.suppress(OSError, TypeError):
        return (proc.stderr.read(4096) or b"").decode(errors="replace")
    return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, 9)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    proc.wait()
