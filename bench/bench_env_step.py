"""Overhead of the env layer: one arithmetic episode through gymnasium.make's wrappers
and through the bare TaskEnv, against calling the task's own methods directly.

    python bench/bench_env_step.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import gymnasium as gym
from _timing import interleaved, print_table

import taskgym
from taskgym.core import Turn
from taskgym.envs.env import _NO_SANDBOX


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    wrapped = gym.make("taskgym/ArithmeticEasy-v0")
    bare = wrapped.unwrapped
    assert isinstance(bare, taskgym.TaskEnv)
    task = bare.task
    seeds = itertools.count()

    def direct() -> None:
        problem = task.problem(next(seeds))
        task.check(problem, (Turn(problem.solution[0], ""),), _NO_SANDBOX)

    def episode(env: gym.Env[str, str]) -> None:
        env.reset(seed=next(seeds))
        env.step(bare.problem.solution[0])

    results = interleaved(
        {
            "task.problem + task.check (baseline)": direct,
            "TaskEnv reset + step": lambda: episode(bare),
            "gymnasium.make(...) reset + step": lambda: episode(wrapped),
        },
        calls=args.calls,
        rounds=args.rounds,
    )
    print("# one single-turn episode of taskgym/ArithmeticEasy-v0")
    print_table(results, "task.problem + task.check (baseline)", unit="us")


if __name__ == "__main__":
    main()
