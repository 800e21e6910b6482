"""The dispatching base of the ``process`` and ``ray`` executors (:mod:`.process`,
:mod:`.ray_executor`): jobs queued by ``submit``, handed by one dispatcher thread to
``workers`` workers that play up to ``ceil(concurrency / workers)`` episodes each, a
per-episode time-out, and the replacement of a worker that dies or runs late."""

from __future__ import annotations

import abc
import collections
import itertools
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from taskgym.errors import ConfigError
from taskgym.parallel.base import Executor
from taskgym.parallel.spec import EpisodeResult, EpisodeSpec

__all__ = ["DispatchingExecutor"]

_BATCH = 32  # specs a message at most, so that results of a batch do not wait long


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
        self._seats = [_Seat(handle) for handle in self._start_workers()]
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

    def _start_workers(self) -> list[Any]:
        """The first ``workers`` workers (a subclass may wait for them to be ready, and
        raise if they cannot start)."""
        return [self._start_worker() for _ in range(self.workers)]

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
