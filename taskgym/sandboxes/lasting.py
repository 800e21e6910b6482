"""Long-lived sandbox processes are started from one thread that lives as long as the
process.

bubblewrap's ``--die-with-parent`` (which the bwrap backend uses, so that no sandbox
outlives a trainer that dies) is ``PR_SET_PDEATHSIG``, and Linux sends that signal when
the *thread* that started the process ends, not the process. A grader or shell started
from a worker thread of a pool would be killed when that thread is retired, while its
env lives on in another thread ("it killed the grader"). Starting them here ties them
to the process instead. Starts are serialised through the one thread: a start takes
milliseconds, and only the start, not the process's life, happens there.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["in_lasting_thread"]

_T = TypeVar("_T")
_Call = tuple[Callable[[], object], "Future[object]"]

_lock = threading.Lock()
_calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_pid = 0


def in_lasting_thread(call: Callable[[], _T]) -> _T:
    """Run ``call`` in the process's lasting thread and return (or raise) what it does."""
    global _thread, _calls, _pid  # noqa: PLW0603 - one lasting thread a process
    with _lock:
        if _thread is None or _pid != os.getpid():  # none yet, or a fork lost it
            _calls = queue.SimpleQueue()
            _thread = threading.Thread(
                target=_serve, args=(_calls,), name="taskgym-spawner", daemon=True
            )
            _pid = os.getpid()
            _thread.start()
        if threading.current_thread() is _thread:
            return call()
        calls = _calls
    future: Future[object] = Future()
    calls.put((call, future))
    return future.result()  # type: ignore[return-value]


def _serve(calls: queue.SimpleQueue[_Call]) -> None:
    while True:
        call, future = calls.get()
        try:
            future.set_result(call())
        except BaseException as e:
            future.set_exception(e)
