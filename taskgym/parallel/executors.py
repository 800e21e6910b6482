"""Executors: one interface to play many episodes at once, wherever they run.

=========  ===========================================================================
``inline`` this process: ``concurrency`` threads, each with envs of its own (episodes
           that wait on sandboxes overlap; pure-Python tasks share the GIL). No
           per-episode time-out: a thread cannot be stopped.
``process`` ``workers`` worker processes (a core each by default) started at once
           with ``spawn`` (never forked from the caller, whose memory a fork would
           copy), ``concurrency`` episodes in all, each worker playing its share in
           threads with envs kept warm. A worker that dies is replaced, and only the
           episodes it was playing fail, with the reason; an episode that outlives
           ``timeout`` fails, and its worker is replaced once its other episodes end.
``ray``    the same on a Ray cluster (:mod:`.ray_executor`): ``workers`` actors (a CPU
           of the cluster each by default), many episodes an actor.
=========  ===========================================================================

Every executor takes :class:`~taskgym.parallel.spec.EpisodeSpec` values and gives
:class:`~taskgym.parallel.spec.EpisodeResult` values through
:class:`concurrent.futures.Future`: ``submit``, ``map`` (results in order) and
:func:`as_completed`.

Examples:
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
import itertools
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import as_completed as _as_completed
from dataclasses import dataclass, field
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

_BATCH = 32  # specs a message at most, so that results of a batch do not wait long
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
        self._caches = ThreadCaches()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="taskgym")

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        return self._pool.submit(lambda: play_spec(spec, self._caches.here()))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._caches.close()


@dataclass
class _Job:
    spec: EpisodeSpec
    future: Future[EpisodeResult]
    started: float = 0.0


@dataclass
class _Seat:
    """One worker (a process, an actor) and the episodes it is playing, by job number.
    ``draining``: an episode of it ran out of time and was failed; it takes no more
    and is replaced once the others end, so that they are not killed with it."""

    handle: Any
    jobs: dict[int, _Job] = field(default_factory=dict)
    draining: bool = False


class DispatchingExecutor(Executor):
    """What the process and ray executors share: jobs queued by :meth:`submit`, handed
    by one dispatcher thread (the subclass's :meth:`_dispatch`, started by
    :meth:`_start_dispatcher` once its workers exist) to ``workers`` workers that play
    up to ``ceil(concurrency / workers)`` episodes each, in threads of their own, never
    more than ``concurrency`` in all; a per-episode time-out; and a :meth:`close` that
    cancels what was not played.

    Many episodes a worker is what episodes that wait (on a model, a sandbox) need: a
    worker costs a process and its memory, an episode in flight only a thread."""

    def __init__(
        self,
        concurrency: int | None,
        timeout: float | None,
        workers: int | None,
        *,
        cores: int,
    ) -> None:
        """``concurrency`` defaults to one episode a worker, ``workers`` to one a core of
        ``cores`` (at most ``concurrency``)."""
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
        ):
            raise ConfigError(f"workers must be an int >= 1, got {workers!r}")
        if concurrency is None:
            concurrency = workers or cores
        super().__init__(concurrency)
        if timeout is not None and not timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = timeout
        self.workers = min(workers or cores, concurrency)
        self.episodes_per_worker = -(-concurrency // self.workers)
        self._pending: collections.deque[_Job] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._dispatcher: threading.Thread | None = None
        self._seats: list[_Seat] = []
        self._job_numbers = itertools.count()

    def _start_dispatcher(self, name: str) -> None:
        self._seats = [_Seat(self._start_worker()) for _ in range(self.workers)]
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
        for seat in self._seats:
            for job in seat.jobs.values():
                job.future.cancel()
            self._stop_worker(seat.handle, kill=bool(seat.jobs) or seat.draining)
        self._seats = []
        self._after_close()

    # -- for the dispatcher thread -----------------------------------------------------

    def _assign(self) -> None:
        """Hand queued jobs to the least busy workers, within the limits, several to a
        worker in one message (a message costs more than an episode's spec)."""
        in_flight = sum(len(seat.jobs) for seat in self._seats)
        batches: dict[int, list[tuple[int, EpisodeSpec]]] = {}
        while in_flight < self.concurrency and self._pending:
            open_seats = [
                (index, seat)
                for index, seat in enumerate(self._seats)
                if not seat.draining and len(seat.jobs) < self.episodes_per_worker
            ]
            if not open_seats:
                break
            index, seat = min(open_seats, key=lambda pair: len(pair[1].jobs))
            job = self._next_job()
            if job is None:
                break
            number = next(self._job_numbers)
            seat.jobs[number] = job
            in_flight += 1
            batches.setdefault(index, []).append((number, job.spec))
        for index, batch in batches.items():
            for start in range(0, len(batch), _BATCH):
                self._send(self._seats[index].handle, batch[start : start + _BATCH])

    def _next_job(self) -> _Job | None:
        """The next queued job not cancelled, marked running and timed from now."""
        while self._pending:
            job = self._pending.popleft()
            if job.future.set_running_or_notify_cancel():
                job.started = time.monotonic()
                return job
        return None

    def _finished(self, seat: _Seat, number: int, result: EpisodeResult) -> None:
        job = seat.jobs.pop(number, None)
        if job is not None:  # else it was failed already (it ran out of time)
            job.future.set_result(result)

    def _lost(self, index: int, why: str) -> None:
        """Worker ``index`` died: fail its episodes with ``why`` and start another."""
        seat = self._seats[index]
        for job in seat.jobs.values():
            job.future.set_result(
                EpisodeResult(job.spec, None, error=f"{why}; the worker was replaced")
            )
        self._stop_worker(seat.handle, kill=True)
        self._seats[index] = _Seat(self._start_worker())

    def _expire(self) -> None:
        """Fail the episodes past the time-out, and replace each draining worker whose
        other episodes have ended."""
        for index, seat in enumerate(self._seats):
            if self.timeout is not None:
                now = time.monotonic()
                for number, job in list(seat.jobs.items()):
                    if now - job.started >= self.timeout:
                        del seat.jobs[number]
                        seat.draining = True
                        why = f"ran out of time ({self.timeout:g} s); its worker will be replaced"
                        job.future.set_result(EpisodeResult(job.spec, None, error=why))
            if seat.draining and not seat.jobs:
                self._stop_worker(seat.handle, kill=True)
                self._seats[index] = _Seat(self._start_worker())

    def _next_deadline(self) -> float | None:
        """Seconds until the next time-out, if any episode can run out of time."""
        if self.timeout is None:
            return None
        starts = [job.started for seat in self._seats for job in seat.jobs.values()]
        if not starts:
            return None
        return max(min(starts) + self.timeout - time.monotonic(), 0.0)

    # -- what each kind of worker does --------------------------------------------------

    @abc.abstractmethod
    def _start_worker(self) -> Any:
        """A new worker, ready for ``episodes_per_worker`` episodes at once."""

    @abc.abstractmethod
    def _send(self, worker: Any, jobs: list[tuple[int, EpisodeSpec]]) -> None:
        """Have ``worker`` play each ``(number, spec)``; each result comes back with
        its job number."""

    @abc.abstractmethod
    def _stop_worker(self, worker: Any, *, kill: bool) -> None:
        """Stop ``worker``: at once when ``kill``, else once it has closed its envs."""

    @abc.abstractmethod
    def _notify(self) -> None:
        """Wake the dispatcher (a job was queued, or the executor is closing)."""

    @abc.abstractmethod
    def _dispatch(self) -> None:
        """The dispatcher's loop: :meth:`_assign`, collect results (:meth:`_finished`,
        :meth:`_lost`), :meth:`_expire`; return once ``_closed`` is set."""

    def _after_close(self) -> None:
        """Release what the executor holds beyond its workers."""


class _Worker:
    """One worker process, its pipe, and its threads (``slots``, one an episode)."""

    def __init__(self, context: Any, slots: int) -> None:
        ours, theirs = multiprocessing.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(theirs, slots), daemon=True)
        self.process.start()
        theirs.close()
        self.conn: multiprocessing.connection.Connection = ours

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


def _worker_main(conn: multiprocessing.connection.Connection, slots: int) -> None:
    """A worker's loop: [(number, spec), ...] in, each played in one of ``slots``
    threads (each with envs of its own), (number, result) out, until told to stop."""
    import taskgym  # noqa: F401, PLC0415 - registers the envs in this fresh interpreter

    caches = ThreadCaches()
    replies = threading.Lock()

    def play(number: int, spec: EpisodeSpec) -> None:
        result = play_spec(spec, caches.here())
        with replies:
            conn.send((number, result))

    threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="taskgym-worker")
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            for number, spec in message:
                threads.submit(play, number, spec)
    finally:
        threads.shutdown(wait=True, cancel_futures=True)
        caches.close()


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


class ProcessExecutor(DispatchingExecutor):
    """Episodes in ``workers`` worker processes (default: one a core, at most
    ``concurrency``), ``concurrency`` in all (default: one a worker). See the module
    docstring."""

    name = "process"

    def __init__(
        self,
        concurrency: int | None = None,
        timeout: float | None = None,
        *,
        workers: int | None = None,
    ) -> None:
        super().__init__(concurrency, timeout, workers, cores=max(os.cpu_count() or 1, 1))
        self._context = multiprocessing.get_context("spawn")
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._start_dispatcher("taskgym-dispatch")

    def _start_worker(self) -> _Worker:
        return _Worker(self._context, self.episodes_per_worker)

    def _send(self, worker: _Worker, jobs: list[tuple[int, EpisodeSpec]]) -> None:
        with contextlib.suppress(OSError):  # a dead worker: its sentinel says so
            worker.conn.send(jobs)

    def _stop_worker(self, worker: _Worker, *, kill: bool) -> None:
        worker.stop(kill=kill)

    def _after_close(self) -> None:
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
            for seat in self._seats:
                waiting.append(seat.handle.process.sentinel)
                if seat.jobs or seat.draining:
                    waiting.append(seat.handle.conn)
            ready = multiprocessing.connection.wait(waiting, timeout=self._next_deadline())
            if self._wake_reader in ready:
                while self._wake_reader.poll():
                    self._wake_reader.recv_bytes()
            for index, seat in enumerate(self._seats):
                self._collect(index, seat, ready)
            self._expire()

    def _collect(self, index: int, seat: _Seat, ready: list[Any]) -> None:
        worker: _Worker = seat.handle
        lost = False
        if worker.conn in ready:
            try:
                while worker.conn.poll():
                    number, result = worker.conn.recv()
                    self._finished(seat, number, result)
            except (EOFError, OSError):
                lost = True  # it died mid-reply: its pipe closed
        if lost or worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(_STOP_SECONDS)  # reaped, so its exit code is known
            self._lost(index, f"the worker process died (exit code {worker.process.exitcode})")


_EXECUTORS = ("inline", "process", "ray")


def executor_names() -> list[str]:
    return list(_EXECUTORS)


def make_executor(
    name: str,
    *,
    concurrency: int | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    **options: Any,
) -> Executor:
    """An executor by name: ``inline`` (one thread by default), ``process`` (a worker a
    core by default) or ``ray`` (an actor a CPU of the cluster by default; the ``ray``
    extra, imported only here; ``options`` go to :class:`~taskgym.parallel.ray_executor.
    RayExecutor`). ``concurrency`` is the episodes in flight in all (default: one a
    worker), ``workers`` the processes or actors that share them, ``timeout`` each
    episode's limit in seconds (process and ray)."""
    if name not in _EXECUTORS:
        raise UnknownNameError("executor", name, _EXECUTORS)
    if options and name != "ray":
        raise TypeError(f"the {name} executor takes no options {sorted(options)}")
    if name == "inline":
        if workers is not None:
            raise ConfigError("the inline executor has no workers: set its concurrency")
        return InlineExecutor(1 if concurrency is None else concurrency, timeout)
    if name == "process":
        return ProcessExecutor(concurrency, timeout, workers=workers)
    from taskgym.parallel.ray_executor import RayExecutor  # noqa: PLC0415 - the ray extra

    return RayExecutor(concurrency, timeout, workers=workers, **options)
