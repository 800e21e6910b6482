"""Executors: one interface to play many episodes at once, wherever they run.

=========  ===========================================================================
``inline`` this process (:mod:`.inline`): ``concurrency`` threads, each with envs of
           its own (episodes that wait on sandboxes overlap; pure-Python tasks share
           the GIL). No per-episode time-out: a thread cannot be stopped.
``process`` ``workers`` worker processes (:mod:`.process`; a core each by default)
           started at once with ``spawn`` (never forked from the caller, whose memory
           a fork would copy), ``concurrency`` episodes in all, each worker playing
           its share in threads with envs kept warm. A worker that dies is replaced,
           and only the episodes it was playing fail, with the reason; an episode that
           outlives ``timeout`` fails, and its worker is replaced once its other
           episodes end.
``ray``    the same on a Ray cluster (:mod:`.ray_executor`): ``workers`` actors (a CPU
           of the cluster each by default), many episodes an actor.
``remote`` servers of envs (``taskgym serve``, :mod:`taskgym.serving.remote`):
           ``urls=[...]``, episodes spread round-robin, ``concurrency`` at once.
=========  ===========================================================================

Every executor takes :class:`~taskgym.parallel.spec.EpisodeSpec` values and gives
:class:`~taskgym.parallel.spec.EpisodeResult` values through
:class:`concurrent.futures.Future`: ``submit``, ``map`` (results in order) and
:func:`as_completed`. The interface is :class:`~taskgym.parallel.base.Executor`; the
``process`` and ``ray`` executors share :mod:`.dispatching`.

This module chooses an executor by name (:func:`make_executor`) from :data:`EXECUTORS`,
where each is its ``"module:Class"`` imported only when chosen, so that none depends on
another and Ray is imported only when chosen; :func:`register_executor` adds one of your
own. An executor is a class (or any factory) called as ``(concurrency, timeout, *,
workers, **options)``. The executors' names stay importable from here as before
(:pep:`562`).

Examples:
    >>> from taskgym.parallel import EpisodeSpec, make_executor
    >>> with make_executor("inline", concurrency=2) as executor:
    ...     specs = [EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=s) for s in range(4)]
    ...     [result.record.reward for result in executor.map(specs)]
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskgym.parallel.base import Executor, as_completed
from taskgym.plugins import Registry

if TYPE_CHECKING:
    from taskgym.parallel.dispatching import DispatchingExecutor
    from taskgym.parallel.inline import InlineExecutor
    from taskgym.parallel.process import ProcessExecutor

__all__ = [
    "EXECUTORS",
    "DispatchingExecutor",
    "Executor",
    "ExecutorFactory",
    "InlineExecutor",
    "ProcessExecutor",
    "as_completed",
    "executor_names",
    "make_executor",
    "register_executor",
]

ExecutorFactory = Callable[..., Executor]

EXECUTORS: Registry[ExecutorFactory] = Registry("executor")


def register_executor(name: str, factory: ExecutorFactory | str) -> None:
    """Make ``factory`` (an :class:`Executor` class, or its ``"module:Class"``) available
    as executor ``name``, for :func:`make_executor` and ``taskgym run --executor``. It is
    called as ``factory(concurrency, timeout, workers=workers, **options)``."""
    EXECUTORS.register(name, factory)


register_executor("inline", "taskgym.parallel.inline:InlineExecutor")
register_executor("process", "taskgym.parallel.process:ProcessExecutor")
register_executor("ray", "taskgym.parallel.ray_executor:RayExecutor")  # the ray extra
# Servers of envs (taskgym serve), urls=[...]: the openenv extra.
register_executor("remote", "taskgym.serving.remote:RemoteExecutor")

# Names this module held before the executors had a module each (PEP 562).
_MOVED = {
    "DispatchingExecutor": "taskgym.parallel.dispatching",
    "InlineExecutor": "taskgym.parallel.inline",
    "ProcessExecutor": "taskgym.parallel.process",
    "ThreadCaches": "taskgym.parallel.base",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def executor_names() -> list[str]:
    return EXECUTORS.names()


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
    episode's limit in seconds (process and ray). Or one registered with
    :func:`register_executor`."""
    factory = EXECUTORS.get(name)
    unaccepted = _unaccepted(factory, options)
    if unaccepted:
        raise TypeError(f"the {name} executor takes no options {unaccepted}")
    return factory(concurrency, timeout, workers=workers, **options)


def _unaccepted(factory: ExecutorFactory, options: dict[str, Any]) -> list[str]:
    """The options ``factory`` has no parameter for (none when it takes ``**options``
    or has no signature to read)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    return sorted(set(options) - set(parameters))
