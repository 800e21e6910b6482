"""The episode pool's hot path, piece by piece, each against a baseline in the same run.

    python -m bench.episode_pool_hot_path [--rounds 5]

What ``model_agents_at_scale`` at 256 episodes in flight is made of:

1. A seeded reset of a text env against calling the task's ``problem`` directly, and
   what building gymnasium's numpy generator costs (a seeded ``Env.reset`` used to pay
   it every time; ``TaskEnv`` now builds it only when something draws from it).
2. A multi-turn step against calling the task's ``interact`` directly.
3. CPU time of one thread hop from an event loop with 256 calls in flight:
   ``loop.run_in_executor`` (baseline) against the pool's ``LoopThreads``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import statistics
import sys
import time
from collections.abc import Sequence

from gymnasium.utils import seeding

from bench.ratios import interleaved, interleaved_rounds, median_ratio, print_table
from bench.tasks import WaitTask
from taskgym.envs.env import TaskEnv
from taskgym.parallel.loop_threads import LoopThreads

IN_FLIGHT = 256
HOPS = 20_000


def env_parts(rounds: int) -> None:
    task = WaitTask()
    env = TaskEnv(task)
    seeds = iter(range(10**9))
    env.reset(seed=0)
    problem = env.problem

    def step() -> None:
        env._transcript.clear()  # stay on the first turn: a step that goes on
        env.step("x")

    results = interleaved(
        {
            "task.problem(seed) (baseline)": lambda: task.problem(next(seeds)),
            "TaskEnv.reset(seed=...)": lambda: env.reset(seed=next(seeds)),
            "seeding.np_random(seed) alone": lambda: seeding.np_random(next(seeds)),
        },
        20_000,
        rounds,
    )
    print("a seeded reset")
    print_table(results, "task.problem(seed) (baseline)", unit="us")
    env.reset(seed=0)
    results = interleaved(
        {
            "task.interact(...) (baseline)": lambda: task.interact(problem, (), "x", None),  # type: ignore[arg-type]
            "TaskEnv.step (a turn that goes on)": step,
        },
        50_000,
        rounds,
    )
    print("\na multi-turn step")
    print_table(results, "task.interact(...) (baseline)", unit="us")


async def _hops(run: object) -> float:
    """CPU seconds a hop: IN_FLIGHT coroutines making HOPS hops in all."""

    async def one() -> None:
        for _ in range(HOPS // IN_FLIGHT):
            await run(int)  # type: ignore[operator]

    start = time.process_time()
    await asyncio.gather(*(one() for _ in range(IN_FLIGHT)))
    return (time.process_time() - start) / (HOPS // IN_FLIGHT * IN_FLIGHT)


async def _executor_hop() -> float:
    pool = concurrent.futures.ThreadPoolExecutor(32)
    loop = asyncio.get_running_loop()
    try:
        return await _hops(lambda call: loop.run_in_executor(pool, call))
    finally:
        pool.shutdown()


async def _loop_threads_hop() -> float:
    threads = LoopThreads(32)
    try:
        return await _hops(threads.run)
    finally:
        threads.shutdown()


def hops(rounds: int) -> None:
    samples = interleaved_rounds(
        rounds,
        {
            "base": lambda: asyncio.run(_executor_hop()),
            "ours": lambda: asyncio.run(_loop_threads_hop()),
        },
    )
    base, ours = samples["base"], samples["ours"]
    print(f"\na thread hop, {IN_FLIGHT} in flight (CPU of all threads)")
    print(f"{'candidate':<44} {'us/hop':>10} {'x baseline':>11}")
    print(
        f"{'loop.run_in_executor (baseline)':<44} {statistics.median(base) * 1e6:>10.1f} {1:>11.2f}"
    )
    print(
        f"{'LoopThreads.run':<44} {statistics.median(ours) * 1e6:>10.1f}"
        f" {median_ratio(ours, base):>11.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    env_parts(args.rounds)
    hops(args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
