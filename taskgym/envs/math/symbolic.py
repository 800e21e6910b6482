"""Symbolic equivalence of final answers (the ``sympy`` extra), in a worker process
with a time limit a call (confined by bubblewrap where it works), and cached.

Example (the first call starts the worker, which takes about half a second)::

    with SymbolicChecker() as checker:
        checker.equal("2(x+1)", "2x + 2")  # True
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import threading
import time
from collections import OrderedDict

from taskgym.closing import Closing
from taskgym.errors import CheckerError, ConfigError

__all__ = ["SymbolicChecker", "shared_checker", "sympy_missing"]

_WORKER = os.path.join(os.path.dirname(__file__), "sympy_worker.py")
_CACHE_SIZE = 4096
_START_SECONDS = 60.0
_MAX_CHARS = 500


@functools.cache
def sympy_missing() -> str | None:
    """Why symbolic checking cannot run here, or None."""
    try:
        import sympy  # noqa: F401, PLC0415
    except ImportError:
        return "sympy is not installed: pip install 'taskgym[sympy]'"
    return None


class SymbolicChecker(Closing):
    """Decides ``equal(given, reference)`` in a sympy worker process; a call that takes
    longer than ``seconds`` (counted from when the worker has sympy loaded) stops the
    worker (a new one starts for the next call) and counts as not equal. Verdicts are
    cached; time-outs are not, so a busy moment never makes an answer wrong for good.
    Thread-safe. Raises CheckerError when a worker cannot start at all."""

    def __init__(self, seconds: float = 2.0) -> None:
        reason = sympy_missing()
        if reason is not None:
            raise ConfigError(reason)
        self.seconds = seconds
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, str | None], bool] = OrderedDict()
        self._proc: _Worker | None = None
        self._closed = False
        self.timeouts = 0

    def equal(self, given: str, reference: str, form: str | None = None) -> bool:
        """Whether ``given`` is ``reference`` mathematically, and with ``form``
        ("expanded", "factored") also written in that form."""
        if len(given) > _MAX_CHARS or len(reference) > _MAX_CHARS:
            return False
        key = (given, reference, form)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            result = self._ask(given, reference, form)
            if result is None:  # out of time: not equal now, but not remembered as such
                return False
            self._cache[key] = result
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return result

    def _ask(self, given: str, reference: str, form: str | None) -> bool | None:
        """The worker's verdict, or None when it did not come in time (or came wrong)."""
        if self._closed:
            raise ConfigError("this SymbolicChecker is closed")
        worker = self._worker()
        assert worker.proc.stdin is not None
        request_id = secrets.token_hex(8)
        try:
            request = {"id": request_id, "given": given, "reference": reference, "form": form}
            worker.proc.stdin.write(json.dumps(request) + "\n")
            worker.proc.stdin.flush()
            reply = json.loads(worker.read_line(time.monotonic() + self.seconds))
            if not isinstance(reply, dict) or reply.get("id") != request_id:
                raise ValueError("a reply to another request")
            return reply.get("equal") is True
        except (TimeoutError, EOFError, OSError, ValueError):
            # Slow, dead or out of step: the answer is not equal, and nothing of this
            # worker is trusted again.
            self.timeouts += 1
            self._stop()
            return None

    def _worker(self) -> _Worker:
        if self._proc is None or self._proc.proc.poll() is not None:
            self._stop()
            self._proc = _Worker.start()
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()


class _Worker:
    """The sympy process and the pipe it replies on. Replies never come on its stdout
    (sent nowhere), and each carries the id of the request it answers: nothing printed
    along the way can pass for one."""

    def __init__(self, proc: subprocess.Popen[str], replies: int) -> None:
        self.proc = proc
        self.replies = replies
        self.buffer = bytearray()

    @classmethod
    def start(cls) -> _Worker:
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen(
                worker_argv(write_end),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(write_end,),
                text=True,
                start_new_session=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        worker = cls(proc, read_end)
        try:
            # Loading sympy is not the answer's time: the request's clock starts after.
            ready = json.loads(worker.read_line(time.monotonic() + _START_SECONDS))
            if ready != {"ready": True}:
                raise ValueError("the worker did not start")
        except (TimeoutError, EOFError, OSError, ValueError) as e:
            worker.stop()
            raise CheckerError(f"the sympy worker did not start: {e!r}") from e
        return worker

    def read_line(self, deadline: float) -> str:
        """The next reply line, read within ``deadline``; at most 64 KiB."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(self.replies, 65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if len(self.buffer) > 65536:
                raise ValueError("a reply too long")
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line.decode("utf-8", errors="strict")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        os.close(self.replies)


def worker_argv(reply_fd: int) -> list[str]:
    """How the worker starts: the file alone, isolated (``-I``: no file of the working
    directory or ``PYTHON*`` variable changes what it imports), and, where bubblewrap
    works, confined as the sandboxes' commands are (no network, its own pid, IPC and
    user namespaces, no capabilities, a read-only view of the system, Python and sympy
    only). The worker evaluates nothing it reads; this is the second wall, not the
    first."""
    from taskgym.sandboxes.bwrap import (  # noqa: PLC0415 - only when a worker starts
        bwrap_unavailable_reason,
        system_dirs_read_only,
    )

    python = [sys.executable, "-I"]
    bwrap = shutil.which("bwrap")
    if bwrap is None or bwrap_unavailable_reason() is not None:
        return [*python, _WORKER, str(reply_fd)]
    # Where the worker's packages lie is bound into the confinement (found, not imported:
    # the host need not load sympy).
    needed = {sys.base_prefix, sys.prefix}
    for name in ("sympy", "mpmath", "gmpy2"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            needed.add(os.path.dirname(os.path.dirname(spec.origin)))
    # /tmp first: a virtual environment under /tmp is bound over it, not hidden by it.
    args = [bwrap, *_CONFINEMENT, *system_dirs_read_only(), "--tmpfs", "/tmp"]
    for path in sorted(needed):
        args += ["--ro-bind", path, path]
    args += ["--ro-bind", _WORKER, "/worker.py", "--proc", "/proc", "--dev", "/dev"]
    args += ["--remount-ro", "/", "--"]
    return [*args, *python, "/worker.py", str(reply_fd)]


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

_SHARED: SymbolicChecker | None = None
_SHARED_LOCK = threading.Lock()


def shared_checker() -> SymbolicChecker | None:
    """One checker for the process (its worker stopped at exit), or None without sympy."""
    global _SHARED  # noqa: PLW0603 - one worker for every task of the process
    if sympy_missing() is not None:
        return None
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED._closed:
            _SHARED = SymbolicChecker()
            atexit.register(_SHARED.close)
        return _SHARED
