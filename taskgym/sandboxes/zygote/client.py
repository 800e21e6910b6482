"""The host's client of one zygote: run a program in a fresh child, open a session with
one, scrub the sandbox for another episode."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from taskgym.errors import SandboxClosedError
from taskgym.sandboxes.base import ExecResult, Limits
from taskgym.sandboxes.zygote.process import (
    REPLY_MARGIN_SECONDS,
    ZygoteProcess,
    receive,
    send,
)
from taskgym.sandboxes.zygote.sessions import Opening, ZygoteSession, sessions

__all__ = ["ProgramResult", "Zygote"]

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


class Zygote(ZygoteProcess):
    """A warm Python in ``sandbox`` that runs one program at a time (thread-safe).

    Args:
        sandbox: the sandbox to run in (its backend must support ``start_process``).
        preload: modules to import once in the zygote, so every program finds them loaded.
        python: the interpreter inside the sandbox.
    """

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
            deadline = time.monotonic() + limits.wall_seconds + REPLY_MARGIN_SECONDS
            try:
                send(self._proc, request)
                reply = receive(self._proc, deadline)
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
        :func:`~taskgym.sandboxes.zygote.pair_zygotes`) and ``("take", token)`` in the
        other, the giver's session opened first: the two children then also talk to each
        other directly, on file descriptors 3 (to the other) and 4 (from it). PeerError
        if the pairing is gone. :func:`~taskgym.sandboxes.zygote.sessions` opens several
        at once."""
        with sessions(Opening(self, code, limits=limits, peer=peer)) as (session,):
            yield session

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
                send(self._proc, {"scrub": True})
                reply = receive(self._proc, time.monotonic() + REPLY_MARGIN_SECONDS)
            except (OSError, ValueError, EOFError, TimeoutError):
                return False
        return bool(reply.get("scrubbed")) and not reply.get("left")


def _result(reply: dict[str, Any]) -> ProgramResult:
    return ProgramResult(
        ExecResult.from_reply(reply),
        channel=base64.b64decode(reply["channel"]),
        channel_truncated=bool(reply["channel_truncated"]),
    )
