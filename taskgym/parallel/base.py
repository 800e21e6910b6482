"""What every executor shares: the :class:`Executor` interface, :func:`as_completed`,
and :class:`ThreadCaches` (an env cache for each thread that plays episodes).

The executors themselves are one module each (:mod:`.inline`, :mod:`.process`,
:mod:`.ray_executor`, the last two over :mod:`.dispatching`), chosen by name with
:func:`~taskgym.parallel.executors.make_executor`. This module imports none of them.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import as_completed as _as_completed
from typing import ClassVar

from taskgym.closing import Closing
from taskgym.errors import ConfigError
from taskgym.parallel.spec import EnvCache, EpisodeResult, EpisodeSpec

__all__ = ["Executor", "ThreadCaches", "as_completed"]


def as_completed(futures: Iterable[Future[EpisodeResult]]) -> Iterator[Future[EpisodeResult]]:
    """The futures as their episodes end (``concurrent.futures.as_completed``)."""
    return _as_completed(list(futures))


class Executor(Closing, abc.ABC):
    """Plays episode specs, at most :attr:`concurrency` at a time. Close it (or use it
    as a context manager) to stop its workers and close their envs."""

    name: ClassVar[str]

    def __init__(self, concurrency: int) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency must be an int >= 1, got {concurrency!r}")
        self.concurrency = concurrency

    @abc.abstractmethod
    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        """Queue ``spec``; the future's result is its EpisodeResult (never an exception:
        a failed episode is a result with ``error`` set)."""

    def map(self, specs: Iterable[EpisodeSpec]) -> Iterator[EpisodeResult]:
        """Play every spec and yield the results in the order of ``specs``."""
        futures = [self.submit(spec) for spec in specs]
        for future in futures:
            yield future.result()


class ThreadCaches(Closing):
    """An :class:`EnvCache` for each thread that asks: envs are not shared between
    threads, and each thread keeps its own warm."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._caches: list[EnvCache] = []

    def here(self) -> EnvCache:
        cache: EnvCache | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = EnvCache()
            with self._lock:
                self._caches.append(cache)
        return cache

    def close(self) -> None:
        with self._lock:
            caches, self._caches = self._caches, []
        for cache in caches:
            cache.close()
