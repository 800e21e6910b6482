"""Model-calling agents at scale: episodes per second, per backend, against asyncio.

    python -m bench.model_agents_at_scale [--quick] [--executors inline,process,ray]

An 8-turn env whose every action waits 5 ms (a stand-in for a model call) and whose
check takes 2 ms (a stand-in for a grader), through each backend, against a hand-written
asyncio loop doing the same waits with no env at all (the floor).

Inline, the agent awaits ``asyncio.sleep`` and steps through
:class:`~taskgym.parallel.AsyncEpisodePool`; through the process and Ray executors, the
agent (:class:`~bench.tasks.ModelStandIn`) sleeps in the worker's thread, as a
synchronous agent blocks on its model. Goal: the inline pool within 1.5x of the floor,
Ray within 3x.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from bench.ratios import Report, interleaved_rounds, median_ratio, report_main
from bench.tasks import AGENT, GRADER_SECONDS, MODEL_SECONDS, TURNS, WAIT
from taskgym.parallel import AsyncEpisodePool, EpisodeSpec, make_executor

__all__ = ["main", "run"]


async def _in_flight(
    episodes: int, concurrency: int, play: Callable[[int], Awaitable[None]]
) -> None:
    """Play ``episodes`` with ``concurrency`` coroutines, each taking the next episode
    when its last one ends (as a rollout loop keeps its batch full)."""
    numbers = iter(range(episodes))

    async def worker() -> None:
        for number in numbers:
            await play(number)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _floor(episodes: int, concurrency: int) -> float:
    threads = ThreadPoolExecutor(max_workers=32)
    loop = asyncio.get_running_loop()

    async def one(_: int) -> None:
        for _ in range(TURNS):
            await asyncio.sleep(MODEL_SECONDS)
        await loop.run_in_executor(threads, time.sleep, GRADER_SECONDS)

    start = time.perf_counter()
    await _in_flight(episodes, concurrency, one)
    threads.shutdown()
    return time.perf_counter() - start


async def _pool(episodes: int, concurrency: int) -> float:
    async with AsyncEpisodePool(concurrency=concurrency) as pool:

        async def one(seed: int) -> None:
            episode = await pool.start(EpisodeSpec(WAIT, seed=seed))
            async with episode:
                while not episode.done:
                    await asyncio.sleep(MODEL_SECONDS)
                    await episode.step("x")
                if episode.reward != 1.0:
                    raise AssertionError(f"a WAIT episode paid {episode.reward}")

        # Warm the pool's envs first, as a training run's pool is: start-up is not
        # throughput (the executors below are warmed the same way).
        await _in_flight(concurrency, concurrency, one)
        start = time.perf_counter()
        await _in_flight(episodes, concurrency, one)
        return time.perf_counter() - start


def _through(executor_name: str, episodes: int, concurrency: int) -> float:
    specs = [EpisodeSpec(WAIT, seed=s, agent=AGENT, episode=s) for s in range(episodes)]
    with make_executor(executor_name, concurrency=concurrency) as executor:
        # Warm every worker and its threads' envs first: start-up is not throughput.
        list(executor.map(specs[:concurrency]))
        start = time.perf_counter()
        for result in executor.map(specs):
            if result.record is None or result.record.reward != 1.0:
                raise AssertionError(f"a WAIT episode failed: {result.error}")
        return time.perf_counter() - start


def _against_floor(
    rounds: int, floor: Callable[[], float], candidates: dict[str, Callable[[], float]]
) -> tuple[float, dict[str, tuple[float, float]]]:
    """Each round the floor, then every candidate, back to back. Returns the floor's
    median seconds and, per candidate, its median seconds and the median of its
    per-round ratios to the floor."""
    samples = interleaved_rounds(rounds, {"": floor, **candidates})
    floors = samples.pop("")
    return statistics.median(floors), {
        name: (statistics.median(times), median_ratio(times, floors))
        for name, times in samples.items()
    }


def _run_floor(episodes: int, concurrency: int) -> float:
    return asyncio.run(_floor(episodes, concurrency))


def _run_pool(episodes: int, concurrency: int) -> float:
    return asyncio.run(_pool(episodes, concurrency))


def run(
    quick: bool = False,
    executors: Sequence[str] = ("inline", "process", "ray"),
    *,
    episodes: int | None = None,
    concurrency: int = 256,
    rounds: int | None = None,
) -> Report:
    episodes = episodes or (1_000 if quick else 10_000)
    rounds = rounds or (1 if quick else 3)
    report = Report(
        "model_agents_at_scale",
        f"{episodes:,} episodes of {TURNS} turns (5 ms a model call, 2 ms a check)",
        "episodes/s",
        "x floor time",
        goal="inline pool within 1.5x of the floor; Ray within 3x",
    )
    ratios: dict[str, float] = {}
    for in_flight in sorted({64, concurrency}):
        floor, measured = _against_floor(
            rounds,
            partial(_run_floor, episodes, in_flight),
            {"pool": partial(_run_pool, episodes, in_flight)},
        )
        pool, ratio = measured["pool"]
        report.add(f"hand-written asyncio loop, {in_flight} in flight", episodes / floor, 1.0)
        report.add(f"AsyncEpisodePool, {in_flight} in flight", episodes / pool, ratio)
        ratios[f"inline-{in_flight}"] = ratio
    others = [name for name in executors if name != "inline"]
    if others:
        floor, measured = _against_floor(
            rounds,
            partial(_run_floor, episodes, concurrency),
            {name: partial(_through, name, episodes, concurrency) for name in others},
        )
        report.add(f"hand-written asyncio loop, {concurrency} in flight", episodes / floor, 1.0)
        for name in others:
            seconds, ratio = measured[name]
            report.add(f"{name} executor, {concurrency} in flight", episodes / seconds, ratio)
            ratios[name] = ratio
    inline = ratios[f"inline-{concurrency}"]
    report.goal_met = inline <= 1.5 and ratios.get("ray", 0.0) <= 3.0
    report.notes.append(
        "each round runs the floor and then its candidates back to back; a ratio is the"
        " median of the rounds' ratios"
    )
    if others:
        report.notes.append(
            f"executors: a worker a core, against a floor ({concurrency} in flight) measured"
            " in their rounds"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return report_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
