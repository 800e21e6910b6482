"""Executors: one interface to play many episodes at once, wherever they run.

=========  ===========================================================================
``inline`` this process: ``concurrency`` threads, each with envs of its own (episodes
           that wait on sandboxes overlap; pure-Python tasks share the GIL). No
           per-episode time-out: a thread cannot be stopped.
``process`` ``concurrency`` worker processes started at once with ``spawn`` (never
           forked from the caller, whose memory a fork would copy), each keeping its
           envs warm. A worker that dies or outlives ``timeout`` is replaced, and only
           the episode it was playing fails, with the reason.
``ray``    ``concurrency`` Ray actors on a cluster (:mod:`.ray_executor`), each playing
           episode after episode with warm envs, replaced like process workers.
=========  ===========================================================================

Every executor takes :class:`~taskgym.parallel.spec.EpisodeSpec` values and gives
:class:`~taskgym.parallel.spec.EpisodeResult` values through
:class:`concurrent.futures.Future`: ``submit``, ``map`` (results in order) and
:func:`as_completed`.

Example:
    >>> from taskgym.parallel import EpisodeSpec, make_executor
    >>> with make_executor("inline", concurrency=2) as executor:
    ...     specs = [EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=s) for s in range(4)]
    ...     [result.record.reward for result in executor.map(specs)]
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import abc
import collections
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import as_completed as _as_completed
from dataclasses import dataclass
from typing import Any, ClassVar

from taskgym.closing import Closing
from taskgym.errors import ConfigError, UnknownNameError
from taskgym.parallel.spec import EnvCache, EpisodeResult, EpisodeSpec, play_spec

__all__ = [
    "DispatchingExecutor",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "as_completed",
    "executor_names",
    "make_executor",
]

_WORKER_START_SECONDS = 60.0
_STOP_SECONDS = 10.0


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


class InlineExecutor(Executor):
    """Episodes in this process, in ``concurrency`` threads with envs of their own."""

    name = "inline"

    def __init__(self, concurrency: int = 1, timeout: float | None = None) -> None:
        super().__init__(concurrency)
        if timeout is not None:
            raise ConfigError(
                "the inline executor cannot stop an episode (a thread cannot be killed): "
                "use executor 'process' for per-episode time-outs"
            )
        self._caches: list[EnvCache] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="taskgym")

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        return self._pool.submit(self._play, spec)

    def _play(self, spec: EpisodeSpec) -> EpisodeResult:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = EnvCache()
            with self._lock:
                self._caches.append(cache)
        return play_spec(spec, cache)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            caches, self._caches = self._caches, []
        for cache in caches:
            cache.close()


@dataclass
class _Job:
    spec: EpisodeSpec
    future: Future[EpisodeResult]
    started: float = 0.0


class DispatchingExecutor(Executor):
    """What the process and ray executors share: jobs queued by :meth:`submit`, handed
    to ``concurrency`` workers by one dispatcher thread (the subclass's
    :meth:`_dispatch`, started by :meth:`_start_dispatcher` once its workers exist), a
    per-episode time-out, and a :meth:`close` that cancels what was not played."""

    def __init__(self, concurrency: int, timeout: float | None) -> None:
        super().__init__(concurrency)
        if timeout is not None and not timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = timeout
        self._pending: collections.deque[_Job] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._dispatcher: threading.Thread | None = None

    def _start_dispatcher(self, name: str) -> None:
        self._dispatcher = threading.Thread(target=self._dispatch, name=name, daemon=True)
        self._dispatcher.start()

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        future: Future[EpisodeResult] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("this executor is closed")
            self._pending.append(_Job(spec, future))
        self._notify()
        return future

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._notify()
        if self._dispatcher is not None:
            self._dispatcher.join()
        for job in self._pending:
            job.future.cancel()
        self._stop_workers()

    def _next_job(self) -> _Job | None:
        """The next queued job not cancelled, marked running and timed from now."""
        while self._pending:
            job = self._pending.popleft()
            if job.future.set_running_or_notify_cancel():
                job.started = time.monotonic()
                return job
        return None

    def _late(self, job: _Job) -> bool:
        return self.timeout is not None and time.monotonic() - job.started >= self.timeout

    @abc.abstractmethod
    def _notify(self) -> None:
        """Wake the dispatcher (a job was queued, or the executor is closing)."""

    @abc.abstractmethod
    def _dispatch(self) -> None:
        """The dispatcher's loop: hand out jobs, collect results, replace lost workers;
        return once ``_closed`` is set."""

    @abc.abstractmethod
    def _stop_workers(self) -> None:
        """Stop every worker, cancelling the futures of jobs still running."""


class _Worker:
    """One worker process and the job it is playing."""

    def __init__(self, context: Any) -> None:
        ours, theirs = multiprocessing.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(theirs,), daemon=True)
        self.process.start()
        theirs.close()
        self.conn: multiprocessing.connection.Connection = ours
        self.job: _Job | None = None

    def stop(self, *, kill: bool) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except OSError:
                kill = True
        self.process.join(0 if kill else _STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(_STOP_SECONDS)
        self.conn.close()


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker's loop: a spec in, its result out, until told to stop."""
    import taskgym  # noqa: F401, PLC0415 - registers the envs in this fresh interpreter

    envs = EnvCache()
    try:
        while True:
            try:
                spec = conn.recv()
            except EOFError:
                return
            if spec is None:
                return
            conn.send(play_spec(spec, envs))
    finally:
        envs.close()


class ProcessExecutor(DispatchingExecutor):
    """Episodes in ``concurrency`` worker processes (see the module docstring)."""

    name = "process"

    def __init__(self, concurrency: int | None = None, timeout: float | None = None) -> None:
        super().__init__(
            max(os.cpu_count() or 1, 1) if concurrency is None else concurrency, timeout
        )
        self._context = multiprocessing.get_context("spawn")
        self._workers = [_Worker(self._context) for _ in range(self.concurrency)]
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._start_dispatcher("taskgym-dispatch")

    def _stop_workers(self) -> None:
        for worker in self._workers:
            if worker.job is not None:
                worker.job.future.cancel()
            worker.stop(kill=worker.job is not None)
        self._wake_reader.close()
        self._wake_writer.close()

    def _notify(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send_bytes(b".")

    # -- the dispatcher thread ----------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._assign()
            waiting: list[Any] = [self._wake_reader]
            for worker in self._workers:
                waiting.append(worker.process.sentinel)
                if worker.job is not None:
                    waiting.append(worker.conn)
            ready = multiprocessing.connection.wait(waiting, timeout=self._next_deadline())
            if self._wake_reader in ready:
                while self._wake_reader.poll():
                    self._wake_reader.recv_bytes()
            for index, worker in enumerate(self._workers):
                self._collect(index, worker, ready)

    def _assign(self) -> None:
        for worker in self._workers:
            if worker.job is None and (job := self._next_job()) is not None:
                worker.job = job
                with contextlib.suppress(OSError):  # a dead worker: its sentinel says so
                    worker.conn.send(job.spec)

    def _next_deadline(self) -> float | None:
        if self.timeout is None:
            return None
        starts = [w.job.started for w in self._workers if w.job is not None]
        if not starts:
            return None
        return max(min(starts) + self.timeout - time.monotonic(), 0.0)

    def _collect(self, index: int, worker: _Worker, ready: list[Any]) -> None:
        job = worker.job
        if job is not None and worker.conn in ready:
            try:
                result: EpisodeResult = worker.conn.recv()
            except (EOFError, OSError):
                pass  # it died mid-reply: the sentinel below
            else:
                worker.job = None
                job.future.set_result(result)
                return
        lost = job is not None and worker.conn in ready  # its pipe closed mid-reply
        if lost or worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(_STOP_SECONDS)  # reaped, so its exit code is known
            code = worker.process.exitcode
            self._replace(index, job, f"the worker process died (exit code {code})")
        elif job is not None and self._late(job):
            self._replace(index, job, f"ran out of time ({self.timeout:g} s)")

    def _replace(self, index: int, job: _Job | None, why: str) -> None:
        """Stop worker ``index`` for good, fail its episode with ``why``, start another."""
        self._workers[index].stop(kill=True)
        if job is not None:
            job.future.set_result(
                EpisodeResult(job.spec, None, error=f"{why}; the worker was replaced")
            )
        self._workers[index] = _Worker(self._context)


_EXECUTORS = ("inline", "process", "ray")


def executor_names() -> list[str]:
    return list(_EXECUTORS)


def make_executor(
    name: str,
    *,
    concurrency: int | None = None,
    timeout: float | None = None,
    **options: Any,
) -> Executor:
    """An executor by name: ``inline`` (one thread by default), ``process`` (a worker a
    core by default) or ``ray`` (an actor a CPU of the cluster by default; the ``ray``
    extra, imported only here; ``options`` go to :class:`~taskgym.parallel.ray_executor.
    RayExecutor`). ``timeout`` is each episode's limit in seconds (process and ray)."""
    if name not in _EXECUTORS:
        raise UnknownNameError("executor", name, _EXECUTORS)
    if options and name != "ray":
        raise TypeError(f"the {name} executor takes no options {sorted(options)}")
    if name == "inline":
        return InlineExecutor(1 if concurrency is None else concurrency, timeout)
    if name == "process":
        return ProcessExecutor(concurrency, timeout)
    from taskgym.parallel.ray_executor import RayExecutor  # noqa: PLC0415 - the ray extra

    return RayExecutor(concurrency, timeout, **options)
