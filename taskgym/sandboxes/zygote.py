"""A fast grader process ("zygote"): a warm Python inside a sandbox that forks a child
per program, so grading a program costs a fork instead of an interpreter start.

The zygote runs inside the sandbox's boundary (``python3 -I -S``, started through the
sandbox like any command) and never in the caller's process: forking a trainer that
holds a model would copy its page tables at every program. Its side of the protocol is
:mod:`taskgym.sandboxes.zygote_server`.

Examples:
    >>> from taskgym.sandboxes import make_sandbox
    >>> from taskgym.sandboxes.zygote import Zygote
    >>> with make_sandbox("local") as box, Zygote(box) as zygote:
    ...     zygote.run("print(input()[::-1])", stdin="olleh").execution.out
    'hello\\n'
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.closing import Closing
from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox
from taskgym.sandboxes.wire import compose_source, encode_message, read_message

__all__ = ["ProgramResult", "Zygote", "ZygoteSession", "scrub_for_next_episode", "zygote_for"]

_SERVER_SOURCE = compose_source("wire", "zygote_server")
# The zygote itself runs for a long time: its own CPU clock must not run out. Each
# program's limits are applied in its child.
_ZYGOTE_CPU_SECONDS = 10**7
# How long past a program's own time limit the host waits for the zygote's reply.
_REPLY_MARGIN_SECONDS = 5.0
_LOST_NOTE = (
    b"[taskgym: the grader process was lost while running this program "
    b"(the program may have killed it); a new one was started]\n"
)


@dataclass(frozen=True)
class ProgramResult:
    """What a program did: its execution, and what it wrote to the value channel (fd 3)
    when one was asked for."""

    execution: ExecResult
    channel: bytes = b""
    channel_truncated: bool = False
    lost: bool = False
    """The zygote died while running this program (it was restarted)."""


class Zygote(Closing):
    """A warm Python in ``sandbox`` that runs one program at a time (thread-safe).

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
        self._proc = self._start()
        self._generation = sandbox.generation

    def run(
        self,
        code: str,
        *,
        stdin: bytes | str = b"",
        limits: Limits | None = None,
        channel: bool = False,
    ) -> ProgramResult:
        """Run Python ``code`` as ``__main__`` in a fresh child and directory.

        ``limits`` default to the sandbox's; with ``channel=True`` the program may write
        to file descriptor 3, and what it wrote comes back in ``result.channel``.
        """
        limits = limits if limits is not None else self._sandbox.limits
        data = stdin.encode("utf-8", "surrogatepass") if isinstance(stdin, str) else stdin
        request = {
            "code": code,
            "stdin": base64.b64encode(data).decode(),
            "limits": dataclasses.asdict(limits),
            "channel": channel,
            "sweep": self._sweep,
        }
        with self._lock:
            if self._closed:
                raise SandboxClosedError("this zygote is closed")
            deadline = time.monotonic() + limits.wall_seconds + _REPLY_MARGIN_SECONDS
            try:
                _send(self._proc, request)
                reply = _receive(self._proc, deadline)
            except (OSError, ValueError, EOFError, TimeoutError):
                if self._sandbox.closed or self._sandbox.generation != self._generation:
                    self._closed = True
                    raise SandboxClosedError(
                        "this zygote's sandbox was reset or closed; make a new Zygote"
                    ) from None
                self._restart()
                return ProgramResult(ExecResult(exit_code=-9, stderr=_LOST_NOTE), lost=True)
        return _result(reply)

    @contextlib.contextmanager
    def session(self, code: str, *, limits: Limits | None = None) -> Iterator[ZygoteSession]:
        """Run Python ``code`` in a fresh child that talks with the caller while it runs:
        it reads wire-framed messages on stdin and answers on stdout (its stderr is
        dropped). The zygote serves nothing else until the block ends, which stops the
        child (and, in bwrap, everything it left behind)."""
        limits = limits if limits is not None else self._sandbox.limits
        request = {"code": code, "limits": dataclasses.asdict(limits), "sweep": self._sweep}
        with self._lock:
            if self._closed:
                raise SandboxClosedError("this zygote is closed")
            session = ZygoteSession(self._proc)
            try:
                _send(self._proc, {"session": request})
                opened = _receive(self._proc, time.monotonic() + _REPLY_MARGIN_SECONDS)
            except (OSError, ValueError, EOFError, TimeoutError) as e:
                self._replace()
                raise SandboxError(f"the grader process was lost opening a session: {e!r}") from e
            if opened != {"opened": True}:
                self._replace()
                raise SandboxError(f"the grader process said {opened!r} instead of opened")
            try:
                yield session
            finally:
                self._end(session)

    def _end(self, session: ZygoteSession) -> None:
        """Stop a session's program, or replace the zygote when that cannot be done
        cleanly: it must never be left inside a session the caller has given up."""
        if not session.lost:
            try:
                _send(self._proc, {"end": True})
                if _receive(self._proc, time.monotonic() + _REPLY_MARGIN_SECONDS) == {
                    "ended": True
                }:
                    return
            except (OSError, ValueError, EOFError, TimeoutError):
                pass
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

    def scrub(self) -> bool:
        """Make the sandbox as new for another episode while this zygote stays warm:
        every other process killed, the work directory, /tmp and /dev/shm emptied.
        Only in sandboxes where the zygote has a pid namespace of its own (bwrap);
        False when it cannot be done or something stayed, and the caller resets."""
        if not self._sweep or not self.usable:
            return False
        with self._lock:
            try:
                _send(self._proc, {"scrub": True})
                reply = _receive(self._proc, time.monotonic() + _REPLY_MARGIN_SECONDS)
            except (OSError, ValueError, EOFError, TimeoutError):
                return False
        return bool(reply.get("scrubbed")) and not reply.get("left")

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
            _stop(self._proc)

    def _start(self) -> subprocess.Popen[bytes]:
        limits = self._sandbox.limits.replace(cpu_seconds=_ZYGOTE_CPU_SECONDS)
        proc = self._sandbox.start_process(self._argv, limits=limits)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        try:
            ready = _receive(proc, time.monotonic() + 30)
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
        self._proc = self._start()


class ZygoteSession:
    """The caller's end of :meth:`Zygote.session` (used inside its ``with`` block)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self.lost = False

    def exchange(
        self, message: dict[str, Any] | None, deadline: float | None
    ) -> tuple[dict[str, Any] | None, str]:
        """Send ``message`` to the program (if not None) and, with a ``deadline``, wait
        for its next message: ``(message, "")`` or ``(None, why)``."""
        if self.lost:
            return None, "the grader process was lost"
        wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            _send(self._proc, {"send": message, "wait": wait})
            reply = _receive(self._proc, time.monotonic() + (wait or 0) + _REPLY_MARGIN_SECONDS)
        except (OSError, ValueError, EOFError, TimeoutError):
            self.lost = True
            return None, "the grader process was lost"
        if deadline is None:
            return None, ""
        if reply.get("message") is None:
            return None, str(reply.get("why", "no message"))
        answer = reply["message"]
        if not isinstance(answer, dict):
            return None, "the program sent something that is not a message"
        return answer, ""


# A sandbox's zygotes by purpose: assert-style grading keeps the tests and the candidate
# in zygotes of their own, so no process the candidate descends from ever held the tests.
_ZYGOTES: weakref.WeakKeyDictionary[Sandbox, dict[str, Zygote]] = weakref.WeakKeyDictionary()
_ZYGOTES_LOCK = threading.Lock()


def zygote_for(sandbox: Sandbox, purpose: str = "programs") -> Zygote:
    """The zygote of ``sandbox`` for ``purpose``, started on first use and again after
    the sandbox was reset (which stops it): what tasks that grade programs call in
    ``check``."""
    with _ZYGOTES_LOCK:
        zygotes = _ZYGOTES.setdefault(sandbox, {})
        zygote = zygotes.get(purpose)
        if zygote is None or not zygote.usable:
            zygote = Zygote(sandbox)
            zygotes[purpose] = zygote
        return zygote


def scrub_for_next_episode(sandbox: Sandbox) -> bool:
    """Whether ``sandbox`` was made as new for another episode by its running zygotes
    (kept warm); False means the caller must reset it (see :meth:`Zygote.scrub`)."""
    with _ZYGOTES_LOCK:
        zygotes = list(_ZYGOTES.get(sandbox, {}).values())
    return bool(zygotes) and all(zygote.scrub() for zygote in zygotes)


def _send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(encode_message(message))
    proc.stdin.flush()


def _receive(proc: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    assert proc.stdout is not None
    message = read_message(proc.stdout.fileno(), deadline)
    if message is None:
        raise EOFError("the zygote closed its pipe")
    return message


def _result(reply: dict[str, Any]) -> ProgramResult:
    return ProgramResult(
        ExecResult.from_reply(reply),
        channel=base64.b64decode(reply["channel"]),
        channel_truncated=bool(reply["channel_truncated"]),
    )


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
