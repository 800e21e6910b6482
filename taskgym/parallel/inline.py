"""The ``inline`` executor: episodes in this process, in ``concurrency`` threads, each
with envs of its own (episodes that wait on sandboxes overlap; pure-Python tasks share
the GIL). No per-episode time-out: a thread cannot be stopped."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from taskgym.errors import ConfigError
from taskgym.parallel.base import Executor, ThreadCaches
from taskgym.parallel.spec import EpisodeResult, EpisodeSpec, play_spec

__all__ = ["InlineExecutor"]


class InlineExecutor(Executor):
    """Episodes in this process, in ``concurrency`` threads with envs of their own."""

    name = "inline"

    def __init__(
        self,
        concurrency: int | None = 1,
        timeout: float | None = None,
        *,
        workers: int | None = None,
    ) -> None:
        """``concurrency`` threads (None: one); ``workers`` is refused, as the threads
        are the workers (the arguments are every executor's, see :mod:`.executors`)."""
        if workers is not None:
            raise ConfigError("the inline executor has no workers: set its concurrency")
        super().__init__(1 if concurrency is None else concurrency)
        if timeout is not None:
            raise ConfigError(
                "the inline executor cannot stop an episode (a thread cannot be killed): "
                "use executor 'process' for per-episode time-outs"
            )
        self._caches = ThreadCaches()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="taskgym")

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        return self._pool.submit(lambda: play_spec(spec, self._caches.here()))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._caches.close()
