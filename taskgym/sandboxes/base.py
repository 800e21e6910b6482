"""The Sandbox protocol: run a command, move files in and out, close.

A backend subclasses :class:`Sandbox` and implements ``_run``, ``_write``, ``_read`` and
``_close``; the checks every backend needs (closed state, path rules, limits) live here
once. Paths are always relative to the sandbox's work directory.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import dataclasses
import os
import posixpath
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, SupportsIndex

from taskgym.closing import Closing
from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.sandboxes.lasting import in_lasting_thread
from taskgym.sandboxes.shell import ShellSession, Signaller

__all__ = ["ExecResult", "Limits", "Sandbox", "normalize_relative_path"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits for one command. Every field must be positive.

    Examples:
        >>> Limits(wall_seconds=2.0).replace(memory_bytes=256 * 1024 * 1024).wall_seconds
        2.0
    """

    wall_seconds: float = 10.0
    """Time-out: the command and everything it started are killed after this."""
    cpu_seconds: int = 10
    """CPU time (RLIMIT_CPU)."""
    memory_bytes: int = 1024 * MiB
    """Address space (RLIMIT_AS) of each process. All of a sandbox's processes together
    are held to the sandbox's own cap (``Sandbox.memory_cap_bytes``, the backends'
    ``memory_bytes`` option)."""
    processes: int = 64
    """Processes of the sandbox's user (RLIMIT_NPROC); all of a sandbox's together are
    held to its ``pids`` option."""
    file_bytes: int = 64 * MiB
    """Largest file a command may write (RLIMIT_FSIZE)."""
    open_files: int = 256
    """Open file descriptors (RLIMIT_NOFILE)."""
    output_bytes: int = 1 * MiB
    """Bytes kept of stdout and of stderr each; the rest is dropped and marked truncated."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")

    def replace(self, **changes: float) -> Limits:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExecResult:
    """What a command did. Output is raw bytes (programs may print anything); use
    :attr:`out` and :attr:`err` for text.

    ``exit_code``: 0 for success; 127 when the program was not found. A command killed by
    signal N reads -N on the local backend (as in subprocess) and 128+N on backends whose
    own init reports the status (bwrap, docker), as in a shell; a time-out is flagged by
    ``timed_out``, whatever the code.
    """

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any]) -> ExecResult:
        """The result a helper inside a sandbox (zygote, docker server) sent as JSON,
        with its output in base64."""
        return cls(
            exit_code=int(reply["exit_code"]),
            stdout=base64.b64decode(reply["stdout"]),
            stderr=base64.b64decode(reply["stderr"]),
            timed_out=bool(reply["timed_out"]),
            stdout_truncated=bool(reply["stdout_truncated"]),
            stderr_truncated=bool(reply["stderr_truncated"]),
        )

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


def _encode(text: str) -> bytes:
    # "surrogatepass": a lone surrogate in an agent's text (which no UTF-8 encoder
    # accepts) reaches the program as the bytes it stands for instead of crashing the
    # host; the program then fails on them like on any other bad input.
    return text.encode("utf-8", "surrogatepass")


def normalize_relative_path(path: str) -> str:
    """Check that ``path`` names something inside the work directory and normalise it.

    Raises ValueError for absolute paths, ``..`` escapes, NUL bytes and empty paths:
    those are bugs in the caller (a task), not something an agent can cause.
    """
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(f"sandbox paths must be non-empty str without NUL, got {path!r}")
    if path.startswith("/"):
        raise ValueError(f"sandbox paths are relative to the work directory, got {path!r}")
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../") or norm == ".":
        raise ValueError(f"sandbox path {path!r} does not name a file inside the work directory")
    return norm


class Sandbox(Closing, abc.ABC):
    """An isolated place to run untrusted commands.

    Use it as a context manager or call :meth:`close` (idempotent). Every method but
    ``close`` raises :class:`~taskgym.errors.SandboxClosedError` after close.

    Examples:
        >>> from taskgym.sandboxes import make_sandbox
        >>> with make_sandbox("local") as box:
        ...     box.run(["echo", "hi"]).out
        'hi\\n'
    """

    backend: str = "abstract"

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else Limits()
        self._closed = False
        self._sessions: list[ShellSession] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._generation = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        # A copy would share the processes and files (and the descriptors) of this one,
        # and its close() would remove them: copy.copy, deepcopy and pickle all refuse.
        raise TypeError(
            f"a {self.backend} sandbox cannot be copied or pickled: it holds processes and "
            "files of this host. Make another (make_sandbox), or copy the env before reset()"
        )

    @property
    def generation(self) -> int:
        """Goes up each time reset() or close() stops the long-lived processes, so their
        owners can tell "stopped by the sandbox" from "crashed"."""
        return self._generation

    @property
    def memory_cap_bytes(self) -> int | None:
        """The memory all of the sandbox's processes may hold together (past it the
        kernel kills one of them, never the host), or None where there is no such cap
        and only each process's ``Limits.memory_bytes`` holds (see
        :attr:`memory_cap_unavailable_reason`)."""
        return None

    @property
    def memory_cap_unavailable_reason(self) -> str | None:
        """None when :attr:`memory_cap_bytes` is set, else why there is no cap."""
        return f"the {self.backend} backend sets no memory cap on its processes together"

    @property
    def reset_leaves_no_trace(self) -> bool:
        """Whether :meth:`reset` (and close) leave nothing of what ran: no process, and
        no file or IPC object anywhere the sandbox could write, not only in the work
        directory."""
        return False

    def run(
        self,
        command: Sequence[str] | str,
        *,
        stdin: bytes | str | None = None,
        limits: Limits | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run ``command`` (argv, or a string for ``/bin/sh -c``) in the work directory.

        ``limits`` replaces the sandbox's default limits; ``timeout`` overrides just the
        wall-clock limit. ``env`` adds variables to the scrubbed environment. A command
        that fails, crashes or times out is reported in the result, never raised.
        """
        self._ensure_open()
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError(f"command must be a non-empty list of str or a str, got {command!r}")
        effective = limits if limits is not None else self.limits
        if timeout is not None:
            effective = effective.replace(wall_seconds=timeout)
        data = _encode(stdin) if isinstance(stdin, str) else (stdin or b"")
        return self._run(argv, data, effective, dict(env or {}))

    def write_file(self, path: str, data: bytes | str, *, mode: int = 0o644) -> None:
        """Create or replace a file in the work directory (parents are created)."""
        self._ensure_open()
        payload = _encode(data) if isinstance(data, str) else data
        self._write(normalize_relative_path(path), payload, mode)

    def read_file(self, path: str, *, max_bytes: int = 16 * MiB) -> bytes:
        """Read a regular file the sandbox left behind.

        Raises an ``OSError`` (FileNotFoundError, PermissionError for a symbolic link or
        anything but a regular file, EFBIG past ``max_bytes``): those come from what ran
        inside, so checkers treat them as a failed check.
        """
        self._ensure_open()
        return self._read(normalize_relative_path(path), max_bytes)

    def shell(self, *, timeout: float = 10.0, output_bytes: int = 64 * 1024) -> ShellSession:
        """A persistent bash in this sandbox (see :mod:`taskgym.sandboxes.shell`).

        ``timeout`` is each command's default time limit; ``output_bytes`` how much of a
        command's output is kept (head and tail). The session closes with the sandbox.
        """
        self._ensure_open()
        session = ShellSession(
            lambda argv: self.start_process(argv, merge_stderr=True),
            timeout=timeout,
            output_bytes=output_bytes,
            signal_descendants=self._session_signaller(),
        )
        self._sessions = [s for s in self._sessions if not s.closed] + [session]
        return session

    def stop_processes(self) -> None:
        """Stop everything running in the sandbox (shell sessions, grader processes and
        whatever they left behind, on backends that contain it) and keep the files: what
        a checker calls before it looks at the state an agent left."""
        self._ensure_open()
        self._stop_processes()

    def reset(self) -> None:
        """Make the sandbox as new (no files, no sessions) so a pool can lease it again.
        Backends that cannot do it cheaply raise NotImplementedError; the pool then
        replaces the sandbox."""
        raise NotImplementedError(f"the {self.backend} sandbox cannot be reset")

    def close(self) -> None:
        """Stop everything the sandbox runs and delete its files. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._stop_processes()
        self._close()

    def _stop_processes(self) -> None:
        """Close every shell session and kill every process from start_process (their
        whole process groups): what reset() and close() owe the next user."""
        self._generation += 1
        for session in self._sessions:
            session.close()
        self._sessions = []
        for proc in self._processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        self._processes = []

    def _ensure_open(self) -> None:
        if self._closed:
            raise SandboxClosedError(
                f"this {self.backend} sandbox is closed; make a new one (make_sandbox) "
                "or let the env lease one at reset()"
            )

    @abc.abstractmethod
    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult: ...

    @abc.abstractmethod
    def _write(self, path: str, data: bytes, mode: int) -> None: ...

    @abc.abstractmethod
    def _read(self, path: str, max_bytes: int) -> bytes: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    def start_process(
        self, argv: Sequence[str], *, limits: Limits | None = None, merge_stderr: bool = False
    ) -> subprocess.Popen[bytes]:
        """Start a long-lived process inside the boundary (a shell, a grader) with pipes
        for stdin, stdout and stderr, in its own session. The caller owns it; it dies
        with the sandbox on backends that contain their processes."""
        self._ensure_open()
        # From the lasting thread: see lasting.py (a process that dies with its parent
        # thread would die with the caller's thread).
        proc = in_lasting_thread(
            lambda: self._start_process(list(argv), limits or self.limits, merge_stderr)
        )
        self._processes = [p for p in self._processes if p.poll() is None] + [proc]
        return proc

    def _start_process(
        self, argv: list[str], limits: Limits, merge_stderr: bool
    ) -> subprocess.Popen[bytes]:
        raise SandboxError(f"the {self.backend} sandbox cannot run long-lived processes")

    def _session_signaller(self) -> Signaller | None:
        """How a shell session's Ctrl-C reaches its command; None: the host's /proc."""
        return None
