"""Symbolic equivalence of final answers (the ``sympy`` extra), in a worker process
with a time limit a call, and cached.

Example (the first call starts the worker, which takes about half a second)::

    with SymbolicChecker() as checker:
        checker.equal("2(x+1)", "2x + 2")  # True
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict

from taskgym.closing import Closing
from taskgym.errors import ConfigError

__all__ = ["SymbolicChecker", "shared_checker", "sympy_missing"]

_WORKER = os.path.join(os.path.dirname(__file__), "sympy_worker.py")
_CACHE_SIZE = 4096
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
    longer than ``seconds`` stops the worker (a new one starts for the next call) and
    counts as not equal. Results are cached. Thread-safe."""

    def __init__(self, seconds: float = 2.0) -> None:
        reason = sympy_missing()
        if reason is not None:
            raise ConfigError(reason)
        self.seconds = seconds
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, str | None], bool] = OrderedDict()
        self._proc: subprocess.Popen[str] | None = None
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
            self._cache[key] = result
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
            return result

    def _ask(self, given: str, reference: str, form: str | None) -> bool:
        if self._closed:
            raise ConfigError("this SymbolicChecker is closed")
        proc = self._worker()
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            request = {"given": given, "reference": reference, "form": form}
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            deadline = time.monotonic() + self.seconds
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
                    raise TimeoutError
                line = proc.stdout.readline()
                if not line:
                    raise EOFError
                return bool(json.loads(line).get("equal", False))
        except (TimeoutError, EOFError, OSError, ValueError):
            self.timeouts += 1
            self._stop()
            return False

    def _worker(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", _WORKER],  # the file alone: it needs only sympy
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        return self._proc

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for pipe in (self._proc.stdin, self._proc.stdout):
                if pipe is not None:
                    pipe.close()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()


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
