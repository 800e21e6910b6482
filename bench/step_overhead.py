"""Step overhead: microseconds a step of a no-op text env costs, per way of stepping it.

    python -m bench.step_overhead [--quick] [--executors inline,process,ray]

The env (:class:`~bench.tasks.NoopTask`) does nothing, so what is left is the
framework's own cost, against calling the task's ``interact`` directly (the baseline):
the bare TaskEnv, ``gymnasium.make``'s wrappers, the episode pools, gymnasium's
``SyncVectorEnv`` and ``AsyncVectorEnv`` (per env-step), and whole episodes through
each executor (per step of 100-step episodes, one worker, so that nothing overlaps).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from bench.ratios import Report, report_main
from bench.tasks import NOOP
from taskgym.envs.env import TaskEnv
from taskgym.envs.sandboxing import NO_SANDBOX
from taskgym.parallel import AsyncEpisodePool, EpisodePool, EpisodeSpec, make_executor, make_vec

__all__ = ["main", "run"]

_TURNS = 100  # NoopTask's turn limit: an episode is 100 steps


def _per_step(measure: Callable[[], tuple[float, int]], rounds: int) -> float:
    """Median over ``rounds`` of seconds a step (``measure`` gives seconds, steps)."""
    samples = []
    for _ in range(rounds):
        seconds, steps = measure()
        samples.append(seconds / steps)
    return statistics.median(samples)


def _direct(steps: int) -> tuple[float, int]:
    env = gym.make(NOOP).unwrapped
    assert isinstance(env, TaskEnv)
    env.reset(seed=0)
    task, problem = env.task, env.problem
    start = time.perf_counter()
    for _ in range(steps):
        task.interact(problem, (), "x", NO_SANDBOX)
    return time.perf_counter() - start, steps


def _env_steps(env: gym.Env[str, str], steps: int) -> tuple[float, int]:
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step("x")
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start, steps


def _async_pool(steps: int) -> tuple[float, int]:
    async def main() -> float:
        async with AsyncEpisodePool(concurrency=1) as pool:
            done = 0
            start = time.perf_counter()
            while done < steps:
                episode = await pool.start(EpisodeSpec(NOOP, seed=done))
                async with episode:
                    while not episode.done and done < steps:
                        await episode.step("x")
                        done += 1
            return time.perf_counter() - start

    return asyncio.run(main()), steps


def _sync_pool(steps: int) -> tuple[float, int]:
    with EpisodePool(concurrency=1) as pool:
        done = 0
        start = time.perf_counter()
        while done < steps:
            with pool.start(EpisodeSpec(NOOP, seed=done)) as episode:
                while not episode.done and done < steps:
                    episode.step("x")
                    done += 1
        return time.perf_counter() - start, steps


def _vector(mode: str, steps: int, num_envs: int = 4) -> tuple[float, int]:
    envs = make_vec(NOOP, num_envs=num_envs, mode=mode)
    try:
        envs.reset(seed=0)
        actions = ("x",) * num_envs
        vector_steps = max(steps // num_envs, 1)
        start = time.perf_counter()
        for _ in range(vector_steps):
            envs.step(actions)  # autoreset starts the next episodes at the limit
        return time.perf_counter() - start, vector_steps * num_envs
    finally:
        envs.close()


def _executor(name: str, episodes: int) -> Callable[[], tuple[float, int]]:
    specs = [EpisodeSpec(NOOP, seed=s, agent="null", episode=s) for s in range(episodes)]

    def measure() -> tuple[float, int]:
        with make_executor(name, concurrency=1) as executor:
            list(executor.map(specs[:1]))  # a warm worker: start-up is not step overhead
            start = time.perf_counter()
            results = list(executor.map(specs))
            seconds = time.perf_counter() - start
        if not all(r.record is not None and r.record.turns == _TURNS for r in results):
            raise AssertionError("a no-op episode failed")
        return seconds, episodes * _TURNS

    return measure


def run(quick: bool = False, executors: Sequence[str] = ("inline", "process", "ray")) -> Report:
    steps = 5_000 if quick else 50_000
    rounds = 1 if quick else 3
    episodes = 10 if quick else 50
    report = Report(
        "step_overhead",
        "step overhead of a no-op text env",
        "us/step",
        "x direct call",
        notes=[
            "executors: whole 100-step episodes, one worker, per step; vector envs: 4 envs,"
            " per env-step"
        ],
    )
    wrapped = gym.make(NOOP)
    candidates: dict[str, Callable[[], tuple[float, int]]] = {
        "task.interact called directly (baseline)": lambda: _direct(steps),
        "TaskEnv.step": lambda: _env_steps(wrapped.unwrapped, steps),
        "gymnasium.make(...).step": lambda: _env_steps(wrapped, steps),
        "AsyncEpisodePool: await episode.step": lambda: _async_pool(steps),
        "EpisodePool (sync): episode.step": lambda: _sync_pool(steps),
        "gymnasium SyncVectorEnv": lambda: _vector("sync", steps),
        "gymnasium AsyncVectorEnv": lambda: _vector("async", steps // 5),
    }
    for name in executors:
        candidates[f"{name} executor"] = _executor(name, episodes)
    results: dict[str, Any] = {}
    for name, measure in candidates.items():
        results[name] = _per_step(measure, rounds)
    wrapped.close()
    base = results["task.interact called directly (baseline)"]
    for name, seconds in results.items():
        report.add(name, seconds * 1e6, seconds / base)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return report_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
