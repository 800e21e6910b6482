"""Episodes on a Ray cluster (the ``ray`` extra; this module is imported only when the
``ray`` executor is chosen).

Few actors, many episodes: an actor costs about half a second and 40 MiB to start (the
issue's figures for this machine kind; not measured here), so
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

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taskgym.errors import DependencyNotInstalledError
from taskgym.parallel.executors import DispatchingExecutor, _Job
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
    job: _Job | None = None
    ref: Any = None


class RayExecutor(DispatchingExecutor):
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
        self._ray = ray
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            ray.init(**{"include_dashboard": False, "log_to_driver": False, **dict(init or {})})
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        super().__init__(max(cpus, 1) if concurrency is None else concurrency, timeout)
        self._actor_class = ray.remote(num_cpus=0)(_EpisodeActor)
        self._running = [_Running(self._actor_class.remote()) for _ in range(self.concurrency)]
        self._wake = threading.Event()
        self._start_dispatcher("taskgym-ray-dispatch")

    def _notify(self) -> None:
        self._wake.set()

    def _stop_workers(self) -> None:
        for slot in self._running:
            if slot.job is not None:
                slot.job.future.cancel()
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
                if slot.job is not None and (slot.ref in ready or self._late(slot.job)):
                    self._collect(index, slot, finished=slot.ref in ready)

    def _assign(self) -> None:
        for slot in self._running:
            if slot.ref is None and (job := self._next_job()) is not None:
                slot.job, slot.ref = job, slot.actor.play.remote(job.spec)

    def _collect(self, index: int, slot: _Running, *, finished: bool) -> None:
        job = slot.job
        assert job is not None
        if finished:
            try:
                result: EpisodeResult = self._ray.get(slot.ref)
            except self._ray.exceptions.RayError as e:  # the actor died under it
                self._replace(index)
                why = f"the Ray actor failed ({type(e).__name__}); it was replaced"
                job.future.set_result(EpisodeResult(job.spec, None, error=why))
                return
            slot.job, slot.ref = None, None
            job.future.set_result(result)
            return
        self._replace(index)
        why = f"ran out of time ({self.timeout:g} s); the Ray actor was replaced"
        job.future.set_result(EpisodeResult(job.spec, None, error=why))

    def _replace(self, index: int) -> None:
        self._ray.kill(self._running[index].actor)
        self._running[index] = _Running(self._actor_class.remote())
