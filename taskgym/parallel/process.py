"""The ``process`` executor: ``workers`` worker processes (a core each by default)
started at once with ``spawn`` (never forked from the caller, whose memory a fork would
copy), ``concurrency`` episodes in all, each worker playing its share in threads with
envs kept warm. A worker that dies is replaced, and only the episodes it was playing
fail, with the reason; an episode that outlives ``timeout`` fails, and its worker is
replaced once its other episodes end.

Each worker says it is ready before it takes an episode, and the executor waits for the
first ones: ``spawn`` starts a worker by re-running the caller's main module (as
``__mp_main__``), so a script that makes an executor outside an ``if __name__ ==
"__main__":`` block would have every worker make one in turn and die. A worker that
dies before it is ready is that, or another error of the main module: the executor
says so and what to do, instead of failing every episode with "the worker died"."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskgym.errors import ConfigError
from taskgym.parallel.base import ThreadCaches
from taskgym.parallel.dispatching import DispatchingExecutor, _Seat
from taskgym.parallel.spec import EpisodeSpec, play_spec

__all__ = ["ProcessExecutor"]

_STOP_SECONDS = 10.0
_READY = "ready"  # a worker's first message: it has started and imported taskgym


class _Worker:
    """One worker process, its pipe, and its threads (``slots``, one an episode)."""

    def __init__(self, context: Any, slots: int) -> None:
        ours, theirs = multiprocessing.Pipe(duplex=True)
        self.process = context.Process(target=_worker_main, args=(theirs, slots), daemon=True)
        self.process.start()
        theirs.close()
        self.conn: multiprocessing.connection.Connection = ours
        self.ready = False

    def wait_ready(self) -> bool:
        """Wait until the worker says it is ready (True) or dies first (False)."""
        while not self.ready:
            multiprocessing.connection.wait([self.conn, self.process.sentinel])
            try:
                if self.conn.poll():
                    self.ready = self.conn.recv() == _READY
                    continue
            except (EOFError, OSError):
                pass  # its pipe closed
            # Nothing to read, or its pipe closed: it died. Reaped, its exit code is known.
            self.process.join(_STOP_SECONDS)
            return False
        return True

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

    conn.send(_READY)
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

    def _start_workers(self) -> list[_Worker]:
        """The first workers, each ready; ConfigError saying why if one died first."""
        workers = super()._start_workers()
        for worker in workers:
            if not worker.wait_ready():
                for other in workers:
                    other.stop(kill=True)
                self._after_close()
                raise ConfigError(_died_starting(worker.process.exitcode))
        return workers

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
                    message = worker.conn.recv()
                    if message == _READY:  # a replacement worker, started
                        worker.ready = True
                        continue
                    number, result = message
                    self._finished(seat, number, result)
            except (EOFError, OSError):
                lost = True  # it died mid-reply: its pipe closed
        if lost or worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(_STOP_SECONDS)  # reaped, so its exit code is known
            code = worker.process.exitcode
            why = f"the worker process died (exit code {code})"
            self._lost(index, why if worker.ready else _died_starting(code))


def _died_starting(exit_code: int | None) -> str:
    """Why a worker that died before it was ready did, and what to do."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main is None:
        return f"a worker process died while starting (exit code {exit_code}); see its error above"
    return (
        f"a worker process died while starting (exit code {exit_code}), as it re-ran "
        f"your main module {main} (spawn starts each worker so): its error is above, on "
        "stderr. A script that makes a process executor must do so under "
        '`if __name__ == "__main__":`, else each worker runs that code again and dies'
    )
