"""Model-calling agents at scale (B6): episodes per second through the non-lockstep
episode pool, against a hand-written asyncio loop doing the same waits with no env.

    python bench/bench_episode_pool.py [--episodes 10000] [--concurrency 256] [--rounds 3]

Each episode has 8 turns; before each, the agent waits 5 ms (``asyncio.sleep``, a
stand-in for a model call); the env's check at the end takes 2 ms (``time.sleep``, a
stand-in for a grader, run off the event loop). The floor runs those waits alone:
8 sleeps, then the 2 ms in a thread. The pool runs them through ``AsyncEpisodePool``
and a real TaskEnv (``bench_episode_pool:WaitTask``). Goal (issue 7): within 1.5x.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gymnasium as gym

from taskgym import Problem, Reply, Task, Turn, Verdict
from taskgym.parallel import AsyncEpisodePool, EpisodeSpec
from taskgym.sandboxes import Sandbox

TURNS = 8
MODEL_SECONDS = 0.005
GRADER_SECONDS = 0.002


@dataclass(frozen=True)
class WaitTask(Task):
    """Eight turns of anything, then a 2 ms check."""

    family: ClassVar[str] = "bench"
    quick_stages: ClassVar[frozenset[str]] = frozenset({"problem", "interact"})

    @property
    def multi_turn(self) -> bool:
        return True

    @property
    def default_max_turns(self) -> int:
        return TURNS

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"wait-{seed}", prompt="Say anything, eight times.", solution=("x",))

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        return Reply("ok", done=len(transcript) + 1 >= TURNS)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        time.sleep(GRADER_SECONDS)
        return Verdict(True, 1, 1)


if "taskgym-bench/Wait-v0" not in gym.registry:  # imported again as the task's module
    gym.register(
        "taskgym-bench/Wait-v0",
        entry_point="taskgym.envs.env:TaskEnv",
        kwargs={"task": "bench_episode_pool:WaitTask"},
    )


async def floor(episodes: int, concurrency: int) -> float:
    places = asyncio.Semaphore(concurrency)
    threads = ThreadPoolExecutor(max_workers=32)
    loop = asyncio.get_running_loop()

    async def one() -> None:
        async with places:
            for _ in range(TURNS):
                await asyncio.sleep(MODEL_SECONDS)
            await loop.run_in_executor(threads, time.sleep, GRADER_SECONDS)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(episodes)))
    threads.shutdown()
    return time.perf_counter() - start


async def through_pool(episodes: int, concurrency: int) -> float:
    async with AsyncEpisodePool(concurrency=concurrency) as pool:

        async def one(seed: int) -> None:
            episode = await pool.start(EpisodeSpec("taskgym-bench/Wait-v0", seed=seed))
            async with episode:
                while not episode.done:
                    await asyncio.sleep(MODEL_SECONDS)
                    await episode.step("x")
                assert episode.reward == 1.0

        start = time.perf_counter()
        await asyncio.gather(*(one(s) for s in range(episodes)))
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {
        "hand-written asyncio loop (floor)": [],
        "AsyncEpisodePool": [],
    }
    for _ in range(args.rounds):
        samples["hand-written asyncio loop (floor)"].append(
            asyncio.run(floor(args.episodes, args.concurrency))
        )
        samples["AsyncEpisodePool"].append(
            asyncio.run(through_pool(args.episodes, args.concurrency))
        )
    base = statistics.median(samples["hand-written asyncio loop (floor)"])
    print(
        f"{args.episodes} episodes of {TURNS} turns, {args.concurrency} in flight, "
        f"median of {args.rounds} rounds"
    )
    print(f"{'candidate':<36} {'episodes/s':>11} {'x floor':>8}")
    for name, values in samples.items():
        seconds = statistics.median(values)
        print(f"{name:<36} {args.episodes / seconds:>11.0f} {seconds / base:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
