"""Episodes on a Ray cluster (the ``ray`` extra; this module is imported only when the
``ray`` executor is chosen).

Few actors, many episodes: an actor costs about half a second and 40 MiB to start (the
issue's figures for this machine kind; not measured here), so ``workers`` actors (one a
CPU of the cluster by default) are started once, and each plays its share of the
``concurrency`` episodes in flight at once, in threads (a threaded actor, each thread
with an env cache of its own). An episode is played whole by one actor call, so a
multi-turn episode stays on the actor that holds its sandbox; which actor takes the
next spec is free. An actor that dies is replaced and only its episodes fail, with the
reason; an episode still running after ``timeout`` seconds fails, and its actor is
replaced once its other episodes end.

The same script runs on one machine or a cluster:
``make_executor("ray", init={"address": "ray://head:10001"})``; without ``address`` and
without a running cluster, Ray starts a local one, which :meth:`RayExecutor.close` stops.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskgym.errors import DependencyNotInstalledError
from taskgym.parallel.base import ThreadCaches
from taskgym.parallel.dispatching import DispatchingExecutor
from taskgym.parallel.spec import EpisodeResult, EpisodeSpec, play_spec

__all__ = ["RayExecutor"]

_POLL_SECONDS = 0.05
_GATHER_SECONDS = 0.005


class _EpisodeActor:
    """The body of each actor: batches of episodes played in its threads (``slots``,
    an env cache each)."""

    def __init__(self, slots: int) -> None:
        import taskgym  # noqa: F401, PLC0415 - registers the envs in the actor's process

        self._caches = ThreadCaches()
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="taskgym-actor")

    def play(
        self, jobs: list[tuple[int, EpisodeSpec]], timeout: float | None
    ) -> tuple[list[tuple[int, EpisodeResult]], bool]:
        """Play the batch; give back each job's result and whether one ran out of time
        (it is failed here, so that its batch comes back; its thread may still run, so
        the actor must then be replaced)."""
        futures = {self._threads.submit(self._play_one, spec): (n, spec) for n, spec in jobs}
        done, late = concurrent.futures.wait(futures, timeout=timeout)
        results = [(futures[future][0], future.result()) for future in done]
        for future in late:
            number, spec = futures[future]
            why = f"ran out of time ({timeout:g} s); its worker will be replaced"
            results.append((number, EpisodeResult(spec, None, error=why)))
        return results, bool(late)

    def _play_one(self, spec: EpisodeSpec) -> EpisodeResult:
        return play_spec(spec, self._caches.here())

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._caches.close()


class RayExecutor(DispatchingExecutor):
    """Episodes on Ray actors (see the module docstring).

    Args:
        concurrency: episodes in flight in all (default: one an actor).
        timeout: seconds an episode may take before it fails and its actor is replaced.
        workers: actors to start (default: the cluster's CPUs, at most ``concurrency``).
        init: keyword arguments for ``ray.init`` when Ray is not initialised yet
            (``address``, ``num_cpus``, ``runtime_env``...).
    """

    name = "ray"

    def __init__(
        self,
        concurrency: int | None = None,
        timeout: float | None = None,
        *,
        workers: int | None = None,
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
        cpus = max(int(ray.cluster_resources().get("CPU", 1)), 1)  # type: ignore[no-untyped-call]
        super().__init__(concurrency, timeout, workers, cores=cpus)
        # num_cpus=0: an actor mostly waits (on sandboxes, models); Ray's CPU count
        # would otherwise cap the actors at one a core.
        # max_concurrency: batches at once (each mostly waits on its episodes' threads).
        self._actor_class = ray.remote(  # type: ignore[call-overload]
            num_cpus=0, max_concurrency=self.episodes_per_worker
        )(_EpisodeActor)
        self._refs: dict[Any, Any] = {}  # a batch's ref -> its actor
        self._wake = threading.Event()
        self._start_dispatcher("taskgym-ray-dispatch")

    def _start_worker(self) -> Any:
        return self._actor_class.remote(self.episodes_per_worker)

    def _send(self, worker: Any, jobs: list[tuple[int, EpisodeSpec]]) -> None:
        self._refs[worker.play.remote(jobs, self.timeout)] = worker

    def _stop_worker(self, worker: Any, *, kill: bool) -> None:
        for ref, actor in list(self._refs.items()):
            if actor is worker:
                del self._refs[ref]
        if not kill:
            with contextlib.suppress(self._ray.exceptions.RayError):  # killed below anyway
                self._ray.get(worker.close.remote(), timeout=30)
        self._ray.kill(worker)

    def _notify(self) -> None:
        self._wake.set()

    def _after_close(self) -> None:
        if self._started_ray:
            self._ray.shutdown()

    # -- the dispatcher thread ----------------------------------------------------------

    def _dispatch(self) -> None:
        busy = False
        while True:
            with self._lock:
                if self._closed:
                    return
                self._assign()
            if not self._refs:
                self._wake.wait(timeout=1.0 if self.timeout is None else _POLL_SECONDS)
                self._wake.clear()
                self._expire()
                continue
            refs = list(self._refs)
            # A wait costs time in the number of refs: when episodes are ending, gather
            # those that end in the next few ms in one; else block until one ends.
            if busy:
                ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=_GATHER_SECONDS)
            else:
                ready, _ = self._ray.wait(refs, num_returns=1, timeout=_POLL_SECONDS)
            busy = bool(ready)
            for ref in ready:
                self._collect(ref)
            self._expire()

    def _collect(self, ref: Any) -> None:
        actor = self._refs.pop(ref, None)
        index = next((i for i, seat in enumerate(self._seats) if seat.handle is actor), None)
        if actor is None or index is None:
            return  # its actor was stopped since
        try:
            results, late = self._ray.get(ref)
        except self._ray.exceptions.RayError as e:  # the actor died under it
            self._lost(index, f"the Ray actor failed ({type(e).__name__})")
            return
        seat = self._seats[index]
        for number, result in results:
            self._finished(seat, number, result)
        seat.draining = seat.draining or late
