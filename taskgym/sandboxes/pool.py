"""Warm pools: ready sandboxes leased one at a time and made as new on return.

Examples:
    >>> from taskgym.sandboxes.pool import SandboxPool
    >>> with SandboxPool("local", size=2) as pool, pool.lease() as box:
    ...     box.run(["echo", "warm"]).out
    'warm\\n'
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from taskgym.closing import Closing
from taskgym.errors import PoolTimeoutError, SandboxClosedError, SandboxError
from taskgym.sandboxes.base import Sandbox

__all__ = ["PoolStats", "SandboxPool"]


@dataclass(frozen=True)
class PoolStats:
    created: int
    reused: int
    replaced: int
    """Sandboxes closed and made anew: too old, failed their health check, or returned
    broken or by a backend that cannot reset."""
    waits: int
    """Leases that had to wait for a sandbox to come back."""


@dataclass
class _Entry:
    sandbox: Sandbox
    born: float
    returned: float


class SandboxPool(Closing):
    """``size`` sandboxes of ``backend``, made ready ahead of time. Thread-safe.

    Args:
        backend: a sandbox name (``auto``, ``local``, ``bwrap``, ...).
        size: how many sandboxes exist at most (and are made at start).
        options: keyword options for the backend.
        max_age: seconds after which a returned sandbox is replaced instead of reused.
        check_after_idle: a sandbox idle longer than this runs ``true`` before it is
            leased, and is replaced if that fails.
    """

    def __init__(
        self,
        backend: str = "auto",
        size: int = 4,
        *,
        options: Mapping[str, Any] | None = None,
        max_age: float = 600.0,
        check_after_idle: float = 30.0,
    ) -> None:
        from taskgym.sandboxes import make_sandbox, resolve_sandbox_name  # noqa: PLC0415

        if size < 1:
            raise ValueError(f"a pool needs size >= 1, got {size}")
        self.requested = backend
        """The name the pool was made with (``auto`` stays ``auto``): an env given the
        pool chooses its backend from it, as it would without a pool."""
        self.backend = resolve_sandbox_name(backend)
        self.size = size
        self.max_age = max_age
        self.check_after_idle = check_after_idle
        self._make: Callable[[], Sandbox] = functools.partial(
            make_sandbox, self.backend, **dict(options or {})
        )
        self._ready: list[_Entry] = []
        self._leased: dict[int, _Entry] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._stats = {"created": 0, "reused": 0, "replaced": 0, "waits": 0}
        try:
            for _ in range(size):
                self._ready.append(self._new_entry())
        except BaseException:
            self.close()
            raise

    # -- leasing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lease(self, timeout: float | None = None) -> Iterator[Sandbox]:
        """A ready sandbox for the duration of the ``with`` block. An exception inside
        the block returns it as broken (it is replaced, not reused)."""
        sandbox = self.acquire(timeout)
        try:
            yield sandbox
        except BaseException:
            self.release(sandbox, broken=True)
            raise
        self.release(sandbox)

    def acquire(self, timeout: float | None = None) -> Sandbox:
        """Take a ready sandbox, waiting up to ``timeout`` seconds (None: for ever) for
        one to come back; raise PoolTimeoutError when none does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            waited = False
            while not self._ready:
                self._ensure_open()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise PoolTimeoutError(
                        f"all {self.size} {self.backend} sandboxes stayed leased for "
                        f"{timeout}s; make the pool larger or release sandboxes sooner"
                    )
                waited = True
                self._cond.wait(remaining)
            self._ensure_open()
            self._stats["waits"] += waited
            entry = self._ready.pop()
        entry = self._checked(entry)
        with self._cond:
            self._leased[id(entry.sandbox)] = entry
        return entry.sandbox

    def release(self, sandbox: Sandbox, *, broken: bool = False) -> None:
        """Give ``sandbox`` back: it is reset for reuse, or replaced when it is broken,
        too old or cannot be reset."""
        with self._cond:
            entry = self._leased.pop(id(sandbox), None)
        if entry is None:
            raise SandboxError("this sandbox was not leased from this pool")
        entry = self._recycled(entry, broken)
        with self._cond:
            if self._closed:
                entry.sandbox.close()
                return
            self._ready.append(entry)
            self._cond.notify()

    # -- state -------------------------------------------------------------------------

    @property
    def stats(self) -> PoolStats:
        with self._cond:
            return PoolStats(**self._stats)

    def close(self) -> None:
        """Close every ready sandbox now and every leased one when it comes back."""
        with self._cond:
            self._closed = True
            ready, self._ready = self._ready, []
            self._cond.notify_all()
        for entry in ready:
            entry.sandbox.close()

    # -- inside ------------------------------------------------------------------------

    def _new_entry(self) -> _Entry:
        now = time.monotonic()
        entry = _Entry(self._make(), born=now, returned=now)
        with self._cond:
            self._stats["created"] += 1
        return entry

    def _replace(self, entry: _Entry) -> _Entry:
        entry.sandbox.close()
        with self._cond:
            self._stats["replaced"] += 1
        return self._new_entry()

    def _checked(self, entry: _Entry) -> _Entry:
        if time.monotonic() - entry.returned < self.check_after_idle:
            return entry
        try:
            healthy = entry.sandbox.run(["true"], timeout=10).ok
        except SandboxError:
            healthy = False
        return entry if healthy else self._replace(entry)

    def _recycled(self, entry: _Entry, broken: bool) -> _Entry:
        too_old = time.monotonic() - entry.born > self.max_age
        if broken or too_old or entry.sandbox.closed:
            return self._replace(entry)
        try:
            entry.sandbox.reset()
        except (NotImplementedError, SandboxError, OSError):
            return self._replace(entry)
        with self._cond:
            self._stats["reused"] += 1
        entry.returned = time.monotonic()
        return entry

    def _ensure_open(self) -> None:
        if self._closed:
            raise SandboxClosedError("this sandbox pool is closed")
