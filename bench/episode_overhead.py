"""Episode overhead: one arithmetic episode through the env, against the task's methods.

    python -m bench.episode_overhead [--calls 2000] [--rounds 5]

A single-turn episode of ``taskgym/ArithmeticEasy-v0`` through ``gymnasium.make``'s
wrappers and through the bare TaskEnv, against calling the task's own ``problem`` and
``check`` directly (the baseline).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence

import gymnasium as gym

import taskgym
from bench.ratios import interleaved, print_table
from taskgym.core import Turn
from taskgym.envs.sandboxing import NO_SANDBOX


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    wrapped = gym.make("taskgym/ArithmeticEasy-v0")
    bare = wrapped.unwrapped
    assert isinstance(bare, taskgym.TaskEnv)
    task = bare.task
    seeds = itertools.count()

    def direct() -> None:
        problem = task.problem(next(seeds))
        task.check(problem, (Turn(problem.solution[0], ""),), NO_SANDBOX)

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
