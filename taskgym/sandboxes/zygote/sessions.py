"""Sessions: a program in a zygote's child that talks with the host while it runs (and,
in two paired zygotes, with each other), opened several at once so that their forks and
first exchanges overlap, and always ended, or their zygote replaced."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.sandboxes.base import Limits
from taskgym.sandboxes.zygote.process import (
    REPLY_MARGIN_SECONDS,
    ZygoteProcess,
    receive,
    send,
)

__all__ = ["Opening", "PeerError", "ZygoteSession", "sessions"]


class PeerError(SandboxError):
    """A session could not get its channel to the paired zygote's session (the pairing
    is gone: one of the two was restarted). The zygote itself is fine; pair again, or
    relay through the host."""


@dataclass(frozen=True)
class Opening:
    """A session for :func:`sessions` to open: ``code`` run in a child of ``zygote``
    (see :meth:`Zygote.session <taskgym.sandboxes.zygote.Zygote.session>` for ``limits``
    and ``peer``). ``first`` is sent to the program as it starts and, with ``wait``, its
    reply awaited that many seconds, in the same round trip as the fork: it lands in
    :attr:`ZygoteSession.first`."""

    zygote: ZygoteProcess
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
        opened: list[tuple[ZygoteProcess, ZygoteSession]] = []
        try:
            failure = _open_all(openings, opened)
            if failure is not None:
                raise failure
            yield [session for _, session in opened]
        finally:
            _end_all(opened, settle_later)


def _request_to_open(opening: Opening) -> dict[str, Any]:
    zygote = opening.zygote
    limits = opening.limits if opening.limits is not None else zygote._sandbox.limits
    request: dict[str, Any] = {
        "code": opening.code,
        "limits": dataclasses.asdict(limits),
        "sweep": zygote._sweep,
    }
    if opening.peer is not None:
        request["peer"] = list(opening.peer)
    if opening.first is not None:
        request["first"] = {"send": opening.first, "wait": opening.wait}
    return request


def _open_all(
    openings: Sequence[Opening], opened: list[tuple[ZygoteProcess, ZygoteSession]]
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
            send(zygote._proc, {"session": _request_to_open(opening)})
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
        seconds = REPLY_MARGIN_SECONDS + (opening.wait or 0.0)
        try:
            reply = receive(zygote._proc, time.monotonic() + seconds)
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


def _end_all(opened: list[tuple[ZygoteProcess, ZygoteSession]], settle_later: bool = False) -> None:
    """Stop the sessions' programs, all at once, or replace a zygote when that cannot
    be done cleanly: one must never be left inside a session the caller has given up.
    With ``settle_later`` the replies are left for :meth:`ZygoteProcess._settle`."""
    ending: list[ZygoteProcess] = []
    for zygote, session in opened:
        if session.lost:
            zygote._replace_after_failure()
            continue
        try:
            send(zygote._proc, {"end": True})
        except (OSError, ValueError):
            zygote._replace_after_failure()
            continue
        zygote._ending = True
        if not settle_later:
            ending.append(zygote)
    for zygote in ending:  # the ends went out together; their replies come back here
        zygote._settle()


class ZygoteSession:
    """The caller's end of a session (:meth:`Zygote.session
    <taskgym.sandboxes.zygote.Zygote.session>`, :func:`sessions`), used inside its
    ``with`` block. :attr:`first` is the program's reply to the opening's ``first``
    message (None, with :attr:`first_why`, if none came)."""

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
            send(self._proc, {"send": message, "wait": wait})
            reply = receive(self._proc, time.monotonic() + (wait or 0) + REPLY_MARGIN_SECONDS)
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
