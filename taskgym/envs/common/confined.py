"""A Python worker process, confined where bubblewrap works, that answers one JSON request
a line with a time limit a request: for graders that call code which may hang or read
hostile text (a package's own scoring functions).

The worker is a file run as ``python -I FILE FD ARGS...``: requests arrive on its stdin,
one JSON object a line; it replies on the descriptor ``FD`` (never stdout, which goes
nowhere), one JSON object a line carrying the ``id`` of the request it answers, and says
``{"ready": true}`` there first, once its imports are done (their time is not a
request's). A request that gets no reply in time, or a reply that is not one JSON
object carrying its id, stops the worker: nothing of it is trusted again, and the next
request starts a new one.

Confinement (where bubblewrap works): no network, its own pid, IPC and user namespaces,
no capabilities, a read-only view of the system, of Python and of the directories the
caller names (where the worker's packages are), a private ``/tmp``. Where bubblewrap
does not work the worker runs unconfined, so what it runs must guard itself too.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from taskgym.closing import Closing
from taskgym.errors import CheckerError

__all__ = ["ConfinedWorker", "WorkerFailed", "WorkerTimeout"]

_MAX_REPLY = 1 << 20
_CONFINEMENT = (
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    "--cap-drop",
    "ALL",
)


class WorkerFailed(Exception):
    """The worker died, or replied out of step (not JSON, another request's id): it was
    stopped. Whether that is the caller's failure or the request's is the caller's call
    (a request may crash what it runs on purpose)."""


class WorkerTimeout(WorkerFailed):
    """A request got no reply within its time: the worker was stopped."""


class ConfinedWorker(Closing):
    """Runs ``script`` as a worker and sends it requests (see the module docstring).
    Thread-safe: one request at a time. ``binds``: directories the worker must read
    (its packages), shown read-only at the same paths; ``env``: its environment (it
    starts with none, so no ``PYTHON*`` variable but these reaches it); ``python_args``:
    the interpreter's options (``-I`` by default; a worker that needs an environment
    variable such as ``PYTHONHASHSEED`` takes ``-s`` and drops its own directory from
    ``sys.path``); ``start_seconds``: how long its imports may take."""

    def __init__(
        self,
        script: str,
        *,
        args: Sequence[str] = (),
        binds: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        python_args: Sequence[str] = ("-I",),
        start_seconds: float = 120.0,
    ) -> None:
        self.script = script
        self.python_args = tuple(python_args)
        self.args = tuple(args)
        self.binds = tuple(binds)
        self.env = dict(env or {})
        self.start_seconds = start_seconds
        self._lock = threading.Lock()
        self._proc: _Process | None = None
        self._closed = False

    def ask(self, request: Mapping[str, Any], seconds: float) -> dict[str, Any]:
        """The worker's reply to ``request`` (a JSON object; an ``id`` is added), read
        within ``seconds`` of sending it. Raises WorkerTimeout or WorkerFailed (the
        worker is stopped), or CheckerError when a worker cannot start at all."""
        with self._lock:
            if self._closed:
                raise CheckerError("the worker was closed")
            proc = self._proc if self._proc is not None else self._start()
            self._proc = proc
            request_id = secrets.token_hex(8)
            try:
                proc.send({**request, "id": request_id})
                reply = json.loads(proc.read_line(time.monotonic() + seconds))
                if not isinstance(reply, dict) or reply.get("id") != request_id:
                    raise ValueError("a reply to another request")
            except TimeoutError:
                self._stop()
                raise WorkerTimeout(f"no reply within {seconds} s") from None
            except (EOFError, OSError, ValueError) as e:
                self._stop()
                raise WorkerFailed(f"the worker {self.script} broke: {e!r}") from e
            return reply

    @property
    def pid(self) -> int | None:
        """The pid of the worker's first process (bubblewrap, where it confines), or None
        while none runs."""
        proc = self._proc
        return proc.proc.pid if proc is not None else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def _start(self) -> _Process:
        proc = _Process.start(self.argv, self.env)
        try:
            ready = json.loads(proc.read_line(time.monotonic() + self.start_seconds))
            if ready != {"ready": True}:
                raise ValueError(f"it said {ready!r}")
        except (TimeoutError, EOFError, OSError, ValueError) as e:
            proc.stop()
            raise CheckerError(f"the worker {self.script} did not start: {e!r}") from e
        return proc

    def argv(self, reply_fd: int) -> list[str]:
        """The command that starts the worker replying on ``reply_fd``: confined by
        bubblewrap where it works (the script bound at ``/worker.py``)."""
        from taskgym.sandboxes.bwrap import (  # noqa: PLC0415 - only when a worker starts
            bwrap_unavailable_reason,
            system_dirs_read_only,
        )

        python = [sys.executable, *self.python_args]
        bwrap = shutil.which("bwrap")
        if bwrap is None or bwrap_unavailable_reason() is not None:
            return [*python, self.script, str(reply_fd), *self.args]
        # /tmp first: a directory under /tmp (a virtual environment) is bound over it.
        args = [bwrap, *_CONFINEMENT, *system_dirs_read_only(), "--tmpfs", "/tmp"]
        for path in sorted({sys.base_prefix, sys.prefix, *self.binds}):
            args += ["--ro-bind", path, path]
        for name, value in sorted(self.env.items()):
            args += ["--setenv", name, value]
        args += ["--ro-bind", self.script, "/worker.py", "--proc", "/proc", "--dev", "/dev"]
        args += ["--remount-ro", "/", "--chdir", "/tmp", "--"]
        return [*args, *python, "/worker.py", str(reply_fd), *self.args]


class _Process:
    """The worker's process and the pipe it replies on."""

    def __init__(self, proc: subprocess.Popen[str], replies: int) -> None:
        self.proc = proc
        self.replies = replies
        self.buffer = bytearray()

    @classmethod
    def start(cls, argv: Callable[[int], list[str]], env: Mapping[str, str]) -> _Process:
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(
                argv(write_end),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_end,),
                env=dict(env),
                text=True,
                start_new_session=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        return cls(proc, read_end)

    def send(self, message: Mapping[str, Any]) -> None:
        if self.proc.stdin is None:
            raise EOFError("no stdin")
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError as e:
            raise EOFError("the worker is gone") from e

    def read_line(self, deadline: float) -> str:
        """The next reply line, read by ``deadline``; at most 1 MiB."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(self.replies, 65536)
            if not chunk:
                raise EOFError("the worker exited")
            self.buffer += chunk
            if len(self.buffer) > _MAX_REPLY:
                raise ValueError("a reply too long")
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line.decode("utf-8", errors="strict")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 9)
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        os.close(self.replies)
