"""Episodes on a Ray cluster (the ``ray`` extra; this module is imported only when the
``ray`` executor is chosen).

Few actors, many episodes: an actor costs about half a second and 40 MiB to start, so
``concurrency`` actors (one a CPU of the cluster by default) are started once and each
plays episode after episode from an env cache of its own, like a process worker. An
episode is played whole by one actor call, so a multi-turn episode stays on the actor
that holds its sandbox; which actor takes the next spec is free. An actor that dies, or
that is still on an episode after ``timeout`` seconds, is killed and replaced, and only
that episode fails, with the reason.

The same script runs on one machine or a cluster:
``make_executor("ray", init={"address": "ray://head:10001"})``; without ``address`` and
without a running cluster, Ray starts a local one, which :meth:`RayExecutor.close` stops.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from taskgym.errors import ConfigError, DependencyNotInstalledError
from taskgym.parallel.executors import Executor
from taskgym.parallel.spec import EnvCache, EpisodeResult, EpisodeSpec, play_spec

__all__ = ["RayExecutor"]

_POLL_SECONDS = 0.05


class _EpisodeActor:
    """The body of each actor: a cache of envs and one episode at a time."""

    def __init__(self) -> None:
        import taskgym  # noqa: F401, PLC0415 - registers the envs in the actor's process

        self._envs = EnvCache()

    def play(self, spec: EpisodeSpec) -> EpisodeResult:
        return play_spec(spec, self._envs)

    def close(self) -> None:
        self._envs.close()


@dataclass
class _Running:
    actor: Any
    spec: EpisodeSpec | None = None
    future: Future[EpisodeResult] | None = None
    ref: Any = None
    started: float = 0.0


class RayExecutor(Executor):
    """Episodes on ``concurrency`` Ray actors (see the module docstring).

    Args:
        concurrency: actors to start (default: the cluster's CPUs).
        timeout: seconds an episode may take before its actor is replaced.
        init: keyword arguments for ``ray.init`` when Ray is not initialised yet
            (``address``, ``num_cpus``, ``runtime_env``...).
    """

    name = "ray"

    def __init__(
        self,
        concurrency: int | None = None,
        timeout: float | None = None,
        *,
        init: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            import ray  # noqa: PLC0415 - the ray extra, only when chosen
        except ImportError as e:
            raise DependencyNotInstalledError("ray", "ray") from e
        if timeout is not None and not timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._ray = ray
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            ray.init(**{"include_dashboard": False, "log_to_driver": False, **dict(init or {})})
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        super().__init__(max(cpus, 1) if concurrency is None else concurrency)
        self.timeout = timeout
        self._actor_class = ray.remote(num_cpus=0)(_EpisodeActor)
        self._running = [_Running(self._actor_class.remote()) for _ in range(self.concurrency)]
        self._pending: collections.deque[tuple[EpisodeSpec, Future[EpisodeResult]]] = (
            collections.deque()
        )
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="taskgym-ray-dispatch", daemon=True
        )
        self._dispatcher.start()

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        future: Future[EpisodeResult] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("this executor is closed")
            self._pending.append((spec, future))
        self._wake.set()
        return future

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        self._dispatcher.join()
        for _, future in self._pending:
            future.cancel()
        for slot in self._running:
            if slot.future is not None:
                slot.future.cancel()
                self._ray.kill(slot.actor)
            else:
                try:
                    self._ray.get(slot.actor.close.remote(), timeout=30)
                finally:
                    self._ray.kill(slot.actor)
        if self._started_ray:
            self._ray.shutdown()

    # -- the dispatcher thread ----------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._assign()
            refs = [slot.ref for slot in self._running if slot.ref is not None]
            if not refs:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            ready, _ = self._ray.wait(refs, num_returns=1, timeout=_POLL_SECONDS)
            for index, slot in enumerate(self._running):
                if slot.ref is not None and (slot.ref in ready or self._late(slot)):
                    self._collect(index, slot, finished=slot.ref in ready)

    def _assign(self) -> None:
        for slot in self._running:
            while slot.ref is None and self._pending:
                spec, future = self._pending.popleft()
                if not future.set_running_or_notify_cancel():
                    continue
                slot.spec, slot.future, slot.started = spec, future, time.monotonic()
                slot.ref = slot.actor.play.remote(spec)

    def _late(self, slot: _Running) -> bool:
        return self.timeout is not None and time.monotonic() - slot.started >= self.timeout

    def _collect(self, index: int, slot: _Running, *, finished: bool) -> None:
        assert slot.spec is not None
        assert slot.future is not None
        spec, future = slot.spec, slot.future
        if finished:
            try:
                result: EpisodeResult = self._ray.get(slot.ref)
            except self._ray.exceptions.RayError as e:  # the actor died under it
                self._replace(index)
                why = f"the Ray actor failed ({type(e).__name__}); it was replaced"
                future.set_result(EpisodeResult(spec, None, error=why))
                return
            slot.spec, slot.future, slot.ref = None, None, None
            future.set_result(result)
            return
        self._replace(index)
        why = f"ran out of time ({self.timeout:g} s); the Ray actor was replaced"
        future.set_result(EpisodeResult(spec, None, error=why))

    def _replace(self, index: int) -> None:
        self._ray.kill(self._running[index].actor)
        self._running[index] = _Running(self._actor_class.remote())
