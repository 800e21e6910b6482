"""Contribute a task: one Task class and one register_task line, then check it.

python examples/custom_task.py
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import gymnasium as gym

from taskgym import Problem, Task, Turn, UnknownTaskIdError, Verdict, register_task
from taskgym.sandboxes import Sandbox
from taskgym.testing import check_task


@dataclass(frozen=True)
class ReverseWordTask(Task):
    """Reverse a random word. ``length`` is an option: make(..., length=8)."""

    length: int = 5
    family: ClassVar[str] = "text"

    def problem(self, seed: int) -> Problem:
        rng = random.Random(seed)
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(self.length))
        return Problem(
            id=f"reverse-{self.length}-{seed}",
            prompt=f"Write the word '{word}' backwards. Answer with the word only.",
            solution=(word[::-1],),
            data={"reversed": word[::-1]},
        )

    def get(self, task_id: str) -> Problem:
        prefix = f"reverse-{self.length}-"
        if not task_id.startswith(prefix) or not task_id[len(prefix) :].isdigit():
            raise UnknownTaskIdError(f"ids of this env look like '{prefix}<seed>'")
        return self.problem(int(task_id[len(prefix) :]))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        answer = transcript[-1].action.strip()
        if not answer.isalpha():
            return Verdict.unparsed("the answer is not a single word")
        return Verdict(True, int(answer == problem.data["reversed"]), 1, {"answer": answer})


def main() -> None:
    # In a package this line sits in its family's __init__.py, and the task is named by
    # its "module:Class" string so that importing the registry stays cheap.
    env_id = register_task(
        "ReverseWord",
        f"{__name__}:ReverseWordTask",
        family="text",
        description="Reverse a random word.",
        length=6,
    )
    check_task(env_id)  # determinism, oracle earns 1.0, junk earns 0, check_env, ...
    env = gym.make(env_id)
    observation, _ = env.reset(seed=1)
    print(observation)
    print(env.step("nope")[1], "for a wrong answer")
    print("conformance checks passed for", env_id)


if __name__ == "__main__":
    main()
