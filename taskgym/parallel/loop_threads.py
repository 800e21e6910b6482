"""Threads that run an event loop's blocking calls (a grader, a sandbox, a model-calling
reward), cheaper than ``loop.run_in_executor``.

``run_in_executor`` wraps a ``concurrent.futures.Future`` (with its lock and condition)
in an asyncio future and chains the two with callbacks; here a call waits in a queue
beside its asyncio future and the worker sets the result on the loop, for about half
the CPU a hop (``bench/episode_pool_hot_path.py``). The
episode pool makes one such hop an episode (its check), on a loop that is its
bottleneck at hundreds of episodes in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["LoopThreads"]

_T = TypeVar("_T")
_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class LoopThreads:
    """Up to ``size`` threads, started as calls need them, that run calls for the event
    loops awaiting them (:meth:`run`). :meth:`shutdown` lets the queued calls finish and
    stops the threads."""

    def __init__(self, size: int, *, name: str = "taskgym-loop-thread") -> None:
        if size < 1:
            raise ValueError(f"LoopThreads needs at least one thread, got {size}")
        self._size = size
        self._name = name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._shut = False

    async def run(self, call: Callable[[], _T]) -> _T:
        """``call()`` in one of the threads; its result (or exception) comes back here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        with self._lock:
            if self._shut:
                raise RuntimeError("these threads are shut down")
            if self._idle:
                self._idle -= 1  # that thread is taken by this call
            elif len(self._threads) < self._size:
                self._start_thread()
        self._calls.put((loop, future, call))
        return await future

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            item = self._calls.get()
            if item is None:
                return
            loop, future, call = item
            if not future.cancelled():  # the caller gave up before the call started
                try:
                    result = call()
                except BaseException as e:
                    _deliver(loop, _fail, future, e)
                else:
                    _deliver(loop, _succeed, future, result)
            del item, future, call  # hold nothing of a finished call while idle
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Run what is queued, then stop every thread and wait for them."""
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        for _ in threads:
            self._calls.put(None)
        for thread in threads:
            thread.join()


def _deliver(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        loop.call_soon_threadsafe(settle, future, value)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if isinstance(error, StopIteration):  # a future refuses it: it would end a coroutine
        wrapped = RuntimeError(f"the call raised {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    if not future.done():
        future.set_exception(error)
