"""Batch grading: ``grade_many``'s throughput on mixed code completions, per executor.

    python -m bench.batch_grading [--quick] [--executors inline,process,ray]

2,000 completions of the bundled function tasks (``taskgym/CodeTests-v0``: the
reference, a wrong answer, one that raises, a syntax error, one with no such function),
through each executor, against the plain ``ProcessPoolExecutor`` loop a user would
write (a worker a core, each with its own env, one completion at a time). Every way
must reach the same rewards: a grader that judges differently is not faster, it is
wrong. (No infinite loops: they cost their time limit in any harness.)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import gymnasium as gym

from bench.ratios import Report, interleaved_rounds, report_main
from taskgym.batch import grade_many
from taskgym.parallel import make_executor

__all__ = ["completions", "main", "run"]

ENV_ID = "taskgym/CodeTests-v0"
_WORKERS = 2

_user_env: gym.Env[str, str] | None = None


def completions(count: int) -> list[tuple[str, str]]:
    """``count`` (task id, completion) pairs, the five kinds in turn over every task."""
    env = gym.make(ENV_ID)
    try:
        task = env.unwrapped.task  # type: ignore[attr-defined]
        ids = list(task.task_ids())
        pairs = []
        for i in range(count):
            problem = task.get(ids[i % len(ids)])
            name = problem.prompt.split("`")[1].split("(")[0]
            kinds = (
                problem.solution[0],
                f"```python\ndef {name}(*args):\n    return None\n```",
                f"```python\ndef {name}(*args):\n    raise ValueError('no')\n```",
                f"```python\ndef {name}(:\n```",
                "```python\ndef something_else():\n    return 1\n```",
            )
            pairs.append((problem.id, kinds[(i // len(ids)) % len(kinds)]))
        return pairs
    finally:
        env.close()


def _user_grade(pair: tuple[str, str]) -> float:
    """What a user's worker function does: one env per process, reset on the task,
    step the completion, keep the reward."""
    global _user_env  # noqa: PLW0603 - the per-process env of the user's loop
    if _user_env is None:
        import taskgym  # noqa: F401 - registers the envs in the worker

        _user_env = gym.make(ENV_ID)
    task_id, completion = pair
    _user_env.reset(options={"task_id": task_id})
    _, reward, _, _, _ = _user_env.step(completion)
    return float(reward)


def _user_loop(pairs: list[tuple[str, str]]) -> tuple[float, list[float]]:
    with ProcessPoolExecutor(max_workers=_WORKERS) as pool:
        list(pool.map(_user_grade, pairs[: _WORKERS * 4]))  # warm workers, like the others
        start = time.perf_counter()
        rewards = list(pool.map(_user_grade, pairs, chunksize=8))
        return time.perf_counter() - start, rewards


def _grade_many(pairs: list[tuple[str, str]], executor: str | None) -> tuple[float, list[float]]:
    if executor is None:
        grade_many(ENV_ID, pairs[: _WORKERS * 4], workers=_WORKERS)  # the same warm-up
        start = time.perf_counter()
        graded = grade_many(ENV_ID, pairs, workers=_WORKERS)
        seconds = time.perf_counter() - start
    else:
        with make_executor(executor, concurrency=_WORKERS) as running:
            grade_many(ENV_ID, pairs[: _WORKERS * 4], executor=running)
            start = time.perf_counter()
            graded = grade_many(ENV_ID, pairs, executor=running)
            seconds = time.perf_counter() - start
    if any(g.error for g in graded):
        raise AssertionError(f"grading failed: {next(g.error for g in graded if g.error)}")
    return seconds, [g.reward for g in graded]


def run(quick: bool = False, executors: Sequence[str] = ("inline", "process", "ray")) -> Report:
    count = 200 if quick else 2_000
    rounds = 1 if quick else 3
    pairs = completions(count)
    report = Report(
        "batch_grading",
        f"grade_many: {count:,} mixed code completions ({ENV_ID}, {_WORKERS} workers)",
        "completions/s",
        "x user loop speed",
        goal="",
    )
    baseline = "ProcessPoolExecutor loop (baseline)"
    expected: list[float] = []

    def user_loop() -> float:
        took, expected[:] = _user_loop(pairs)
        return took

    def candidate(name: str, executor: str | None) -> float:
        took, rewards = _grade_many(pairs, executor)
        if rewards != expected:
            raise AssertionError(f"{name} judged differently from the user's loop")
        return took

    measures: dict[str, Callable[[], float]] = {baseline: user_loop}
    candidates: dict[str, str | None] = {"grade_many (threads, warm graders)": None}
    for name in executors:
        candidates[f"grade_many through the {name} executor"] = name
    for name, executor in candidates.items():
        measures[name] = partial(candidate, name, executor)
    seconds = interleaved_rounds(rounds, measures)
    base = statistics.median(seconds[baseline])
    for name, values in seconds.items():
        median = statistics.median(values)
        report.add(name, count / median, base / median)
    report.notes.append(f"{sum(r == 1.0 for r in expected)} of {count} completions pass")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return report_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
