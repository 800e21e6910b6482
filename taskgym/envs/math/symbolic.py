"""Symbolic equivalence of final answers (the ``sympy`` extra), in a worker process
with a time limit a call (confined by bubblewrap where it works), and cached.

Example (the first call starts the worker, which takes about half a second)::

    with SymbolicChecker() as checker:
        checker.equal("2(x+1)", "2x + 2")  # True
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import threading
from collections import OrderedDict

from taskgym.closing import Closing
from taskgym.envs.common.confined import ConfinedWorker, WorkerFailed
from taskgym.errors import ConfigError

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
        self._worker = ConfinedWorker(_WORKER, binds=_package_dirs(), start_seconds=_START_SECONDS)
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
        request = {"given": given, "reference": reference, "form": form}
        try:
            reply = self._worker.ask(request, self.seconds)
        except WorkerFailed:
            # Slow, dead or out of step: the answer is not equal, and nothing of this
            # worker is trusted again (it was stopped; the next call starts another).
            self.timeouts += 1
            return None
        return reply.get("equal") is True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._worker.close()


def _package_dirs() -> list[str]:
    """Where the worker's packages lie, bound into its confinement (found, not imported:
    the host need not load sympy). The worker runs the file alone, isolated (``-I``),
    confined as :class:`~taskgym.envs.common.confined.ConfinedWorker` confines; it
    evaluates nothing it reads, so the confinement is the second wall, not the first."""
    found = []
    for name in ("sympy", "mpmath", "gmpy2"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            found.append(os.path.dirname(os.path.dirname(spec.origin)))
    return found


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
