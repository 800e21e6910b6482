"""The envs and agent the benchmarks play, importable in worker processes and Ray
actors (which inherit the checkout root on their path): gymnasium's ``module:env_id``
form (:data:`NOOP`, :data:`WAIT`) imports this module there, which registers the envs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym

from taskgym.core import Execution, Problem, Reply, Task, Turn, Verdict
from taskgym.envs.env import TaskEnv
from taskgym.sandboxes import Sandbox

__all__ = ["NOOP", "TURNS", "WAIT", "ModelStandIn", "NoopTask", "WaitTask"]

TURNS = 8
"""Turns of a WAIT episode."""
MODEL_SECONDS = 0.005
"""What ModelStandIn waits before each action: a stand-in for a model call."""
GRADER_SECONDS = 0.002
"""What WaitTask's check takes: a stand-in for a grader."""


@dataclass(frozen=True)
class NoopTask(Task):
    """A text env that does nothing: every reply is empty, the episode ends at the turn
    limit. What is left of a step is the framework's own cost."""

    family: ClassVar[str] = "bench"
    execution: ClassVar[Execution] = Execution(quick_stages={"problem", "interact", "check"})

    @property
    def multi_turn(self) -> bool:
        return True

    @property
    def default_max_turns(self) -> int:
        return 100

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"noop-{seed}", prompt="Say anything.", solution=("x",))

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        return Reply("")

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return Verdict(True, 1, 1)


@dataclass(frozen=True)
class WaitTask(Task):
    """Eight turns of anything, then a 2 ms check (``time.sleep``: it blocks, as a
    grader does, so it is not a quick stage)."""

    family: ClassVar[str] = "bench"
    execution: ClassVar[Execution] = Execution(quick_stages={"problem", "interact"})

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


class ModelStandIn:
    """An agent whose every action waits 5 ms first, as a call to a model would (the
    thread sleeps: the synchronous agents of the executors block on their model)."""

    name = "model-stand-in"

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        pass

    def act(self, observation: str, info: dict[str, Any]) -> str:
        time.sleep(MODEL_SECONDS)
        return "x"


for _name, _task in (("Noop-v0", "NoopTask"), ("Wait-v0", "WaitTask")):
    if f"taskgym-bench/{_name}" not in gym.registry:
        gym.register(
            f"taskgym-bench/{_name}",
            entry_point="taskgym.envs.env:TaskEnv",
            kwargs={"task": f"{__name__}:{_task}"},
        )

NOOP = f"{__name__}:taskgym-bench/Noop-v0"
WAIT = f"{__name__}:taskgym-bench/Wait-v0"
AGENT = f"{__name__}:ModelStandIn"
