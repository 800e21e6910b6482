"""A fast grader process ("zygote"): a warm Python inside a sandbox that forks a child
per program, so grading a program costs a fork instead of an interpreter start.

The zygote runs inside the sandbox's boundary (``python3 -I -S``, started through the
sandbox like any command) and never in the caller's process: forking a trainer that
holds a model would copy its page tables at every program. Its side of the protocol is
:mod:`taskgym.inside.zygote_server`.

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
import secrets
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.closing import Closing
from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.inside.wire import encode_message, read_message
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox
from taskgym.sandboxes.compose import compose_source

__all__ = [
    "Opening",
    "PeerError",
    "ProgramResult",
    "Zygote",
    "ZygoteSession",
    "pair_zygotes",
    "paired",
    "scrub_for_next_episode",
    "sessions",
    "zygote_for",
]

_SERVER_SOURCE = compose_source(
    "wire", "zygote_run", "zygote_pairing", "zygote_sessions", "zygote_scrub", "zygote_server"
)
# The zygote itself runs for a long time: its own CPU clock must not run out. Each
# program's limits are applied in its child.
_ZYGOTE_CPU_SECONDS = 10**7
# How long past a program's own time limit the host waits for the zygote's reply.
_REPLY_MARGIN_SECONDS = 5.0
_LOST_NOTE = (
    b"[taskgym: the grader process was lost while running this program "
    b"(the program may have killed it); a new one was started]\n"
)


class PeerError(SandboxError):
    """A session could not get its channel to the paired zygote's session (the pairing
    is gone: one of the two was restarted). The zygote itself is fine; pair again, or
    relay through the host."""


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
        # Which process this is (a new one after a restart), and the other zygote it is
        # paired with, at that one's incarnation (see pair_zygotes).
        self._incarnation = 0
        self._peer: tuple[Zygote, int] | None = None
        # A session's end was sent and its reply not read yet (see sessions).
        self._ending = False
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
            self._settle()
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
    def session(
        self,
        code: str,
        *,
        limits: Limits | None = None,
        peer: tuple[str, str] | None = None,
    ) -> Iterator[ZygoteSession]:
        """Run Python ``code`` in a fresh child that talks with the caller while it runs:
        it reads wire-framed messages on stdin and answers on stdout (its stderr is
        dropped). The zygote serves nothing else until the block ends, which stops the
        child (and, in bwrap, everything it left behind).

        ``peer``: ``("give", token)`` in one of two paired zygotes (see
        :func:`pair_zygotes`) and ``("take", token)`` in the other, the giver's session
        opened first: the two children then also talk to each other directly, on file
        descriptors 3 (to the other) and 4 (from it). PeerError if the pairing is gone.
        :func:`sessions` opens several at once."""
        with sessions(Opening(self, code, limits=limits, peer=peer)) as (session,):
            yield session

    def _request_to_open(self, opening: Opening) -> dict[str, Any]:
        limits = opening.limits if opening.limits is not None else self._sandbox.limits
        request: dict[str, Any] = {
            "code": opening.code,
            "limits": dataclasses.asdict(limits),
            "sweep": self._sweep,
        }
        if opening.peer is not None:
            request["peer"] = list(opening.peer)
        if opening.first is not None:
            request["first"] = {"send": opening.first, "wait": opening.wait}
        return request

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

    def scrub(self) -> bool:
        """Make the sandbox as new for another episode while this zygote stays warm:
        every other process killed, the work directory, /tmp and /dev/shm emptied.
        Only in sandboxes where the zygote has a pid namespace of its own (bwrap);
        False when it cannot be done or something stayed, and the caller resets."""
        if not self._sweep or not self.usable:
            return False
        with self._lock:
            self._settle()
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
            self._ending = False
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
        self._peer = None
        self._ending = False
        self._incarnation += 1
        self._proc = self._start()

    def _request(self, message: dict[str, Any], seconds: float = _REPLY_MARGIN_SECONDS) -> Any:
        """One request and its reply, under the caller's hold of the lock; a zygote
        that does not answer is restarted (OSError, EOFError or TimeoutError raised)."""
        self._settle()
        try:
            _send(self._proc, message)
            return _receive(self._proc, time.monotonic() + seconds)
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
            ended = _receive(self._proc, time.monotonic() + _REPLY_MARGIN_SECONDS)
        except (OSError, ValueError, EOFError, TimeoutError):
            ended = None
        if ended != {"ended": True}:
            self._replace_after_failure()


@dataclass(frozen=True)
class Opening:
    """A session for :func:`sessions` to open: ``code`` run in a child of ``zygote``
    (see :meth:`Zygote.session` for ``limits`` and ``peer``). ``first`` is sent to the
    program as it starts and, with ``wait``, its reply awaited that many seconds, in
    the same round trip as the fork: it lands in :attr:`ZygoteSession.first`."""

    zygote: Zygote
    code: str
    limits: Limits | None = None
    peer: tuple[str, str] | None = None
    first: dict[str, Any] | None = None
    wait: float | None = None


@contextlib.contextmanager
def sessions(*openings: Opening, settle_later: bool = False) -> Iterator[list[ZygoteSession]]:
    """Open a session in each zygote at once and end them all when the block ends:
    every request goes out before any reply is read, so the zygotes fork (and make
    their first exchanges) side by side. The zygotes' locks are taken in the order
    given; a request is sent only after those before it were sent, so a session that
    takes its pipes from a peer (``peer=("take", ...)``) comes after the one that gives
    them. A zygote that fails to open is replaced (SandboxError), or keeps running
    with its pairing dropped (PeerError); the others' sessions are ended.

    ``settle_later``: the block's end sends each zygote its end and returns, and the
    zygote's reply (sent once the session's programs are stopped and cleaned up) is
    read before its next use, so that the cleanup overlaps the caller's own work. Only
    for callers that touch the sandbox through these zygotes alone until then (a
    grader between two gradings): a program left behind by the session may still be
    running when the block has ended."""
    with contextlib.ExitStack() as held:
        for opening in openings:
            held.enter_context(opening.zygote._lock)
        opened: list[tuple[Zygote, ZygoteSession]] = []
        try:
            failure = _open_all(openings, opened)
            if failure is not None:
                raise failure
            yield [session for _, session in opened]
        finally:
            _end_all(opened, settle_later)


def _open_all(
    openings: Sequence[Opening], opened: list[tuple[Zygote, ZygoteSession]]
) -> SandboxError | None:
    """Send every opening request, then read every reply; what opened is appended to
    ``opened`` (to be ended), and the first failure returned."""
    sent: list[Opening] = []
    for opening in openings:
        zygote = opening.zygote
        if zygote._closed:
            return SandboxClosedError("this zygote is closed")
        zygote._settle()
        try:
            _send(zygote._proc, {"session": zygote._request_to_open(opening)})
        except (OSError, ValueError) as e:
            zygote._replace_after_failure()
            failure: SandboxError | None = SandboxError(
                f"the grader process was lost opening a session: {e!r}"
            )
            break
        sent.append(opening)
    else:
        failure = None
    for opening in sent:
        zygote = opening.zygote
        seconds = _REPLY_MARGIN_SECONDS + (opening.wait or 0.0)
        try:
            reply = _receive(zygote._proc, time.monotonic() + seconds)
        except (OSError, ValueError, EOFError, TimeoutError) as e:
            zygote._replace_after_failure()
            failure = failure or SandboxError(
                f"the grader process was lost opening a session: {e!r}"
            )
            continue
        if reply.get("opened") is True:
            opened.append((zygote, ZygoteSession(zygote._proc, reply)))
        elif opening.peer is not None and reply.get("opened") is False:
            zygote._peer = None
            failure = failure or PeerError(str(reply.get("why", "no channel to the peer")))
        else:
            zygote._replace_after_failure()
            failure = failure or SandboxError(
                f"the grader process said {reply!r} instead of opened"
            )
    return failure


def _end_all(opened: list[tuple[Zygote, ZygoteSession]], settle_later: bool = False) -> None:
    """Stop the sessions' programs, all at once, or replace a zygote when that cannot
    be done cleanly: one must never be left inside a session the caller has given up.
    With ``settle_later`` the replies are left for :meth:`Zygote._settle`."""
    ending: list[Zygote] = []
    for zygote, session in opened:
        if session.lost:
            zygote._replace_after_failure()
            continue
        try:
            _send(zygote._proc, {"end": True})
        except (OSError, ValueError):
            zygote._replace_after_failure()
            continue
        zygote._ending = True
        if not settle_later:
            ending.append(zygote)
    for zygote in ending:  # the ends went out together; their replies come back here
        zygote._settle()


class ZygoteSession:
    """The caller's end of a session (:meth:`Zygote.session`, :func:`sessions`), used
    inside its ``with`` block. :attr:`first` is the program's reply to the opening's
    ``first`` message (None, with :attr:`first_why`, if none came)."""

    def __init__(self, proc: subprocess.Popen[bytes], opened: dict[str, Any]) -> None:
        self._proc = proc
        self.lost = False
        first = opened.get("message")
        self.first: dict[str, Any] | None = first if isinstance(first, dict) else None
        self.first_why = str(opened.get("why", "")) if self.first is None else ""

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


def pair_zygotes(giver: Zygote, taker: Zygote) -> bool:
    """Connect two zygotes of one sandbox so that their sessions can be given a channel
    to each other (``session(peer=...)``): a Unix socket in the work directory that
    ``giver`` listens on and ``taker`` connects to with a secret from here, then removes.
    Whether it worked; on False the sessions relay through the host instead."""
    if giver._sandbox is not taker._sandbox:
        raise ValueError("only two zygotes of one sandbox can be paired")
    path = f".taskgym-pair-{secrets.token_hex(8)}.sock"
    secret = secrets.token_hex(16)
    with giver._lock, taker._lock:  # always in this order: tests' zygote, then candidates'
        if not (giver.usable and taker.usable):
            return False
        try:
            listening = giver._request({"pair": {"op": "listen", "path": path}})
            if listening != {"listening": True}:
                return False
            connected = taker._request({"pair": {"op": "connect", "path": path, "secret": secret}})
            accepted = giver._request(
                {"pair": {"op": "accept", "secret": secret}}, 2 * _REPLY_MARGIN_SECONDS
            )
        except (OSError, ValueError, EOFError, TimeoutError):
            return False
        if connected != {"paired": True} or accepted != {"paired": True}:
            return False
        giver._peer = (taker, taker._incarnation)
        taker._peer = (giver, giver._incarnation)
        return True


def paired(giver: Zygote, taker: Zygote) -> bool:
    """Whether ``giver`` and ``taker`` are paired with each other as they run now."""
    return (
        giver._peer == (taker, taker._incarnation)
        and taker._peer == (giver, giver._incarnation)
        and giver.usable
        and taker.usable
    )


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
