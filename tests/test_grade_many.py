"""grade_many: many single-turn completions at once, each with the reward and verdict an
episode would give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import gymnasium as gym
import pytest

import taskgym
from taskgym import ConfigError, Problem, Task, Turn, UnknownTaskIdError, Verdict
from taskgym.envs.code.functions import BUNDLED_FUNCTIONS, load_function_tasks
from taskgym.sandboxes import Sandbox

RECORDS = load_function_tasks(BUNDLED_FUNCTIONS)


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def test_right_wrong_and_unparsed_completions_in_order() -> None:
    pairs = []
    for record in RECORDS:
        pairs.append((record.id, fenced(record.solution)))
        pairs.append((record.id, fenced(f"def {record.entry_point}(*a):\n    return None")))
        pairs.append((record.id, "I think it is easy."))
    graded = taskgym.grade_many("taskgym/CodeTests-v0", pairs, workers=2)
    assert [g.task_id for g in graded] == [task_id for task_id, _ in pairs]
    assert [g.reward for g in graded] == [1.0, 0.0, 0.0] * len(RECORDS)
    assert all(g.error is None and g.verdict is not None for g in graded)
    assert [g.verdict.parsed for g in graded[:3]] == [True, True, False]  # type: ignore[union-attr]


def test_rewards_are_the_ones_an_episode_gives() -> None:
    record = RECORDS[0]
    half_right = fenced(f"def {record.entry_point}(*a):\n    return None")
    options = {"reward": "fraction_passed"}
    (graded,) = taskgym.grade_many("taskgym/CodeTests-v0", [(record.id, half_right)], **options)
    env = gym.make("taskgym/CodeTests-v0", **options)
    env.reset(options={"task_id": record.id})
    _, reward, _, _, info = env.step(half_right)
    env.close()
    assert graded.reward == reward and graded.verdict.to_dict() == info["verdict"]  # type: ignore[union-attr]


def test_unknown_task_ids_are_all_named_and_nothing_is_graded() -> None:
    pairs = [(RECORDS[0].id, "x"), ("no-such-task", "x"), ("nor-this", "x")]
    with pytest.raises(UnknownTaskIdError, match="'no-such-task', 'nor-this'"):
        taskgym.grade_many("taskgym/CodeTests-v0", pairs)


@pytest.mark.parametrize(
    ("completions", "options", "message"),
    [
        ([("a", 3)], {}, r"completions\[0\] must be a \(task_id, completion\) pair"),
        ([("a", "b", "c")], {}, r"completions\[0\]"),
        ([], {"workers": 0}, "workers must be a positive int"),
        ([], {"attempts": 3}, "grade_many grades single-turn envs"),
    ],
)
def test_bad_input_says_what_is_wrong(completions: list, options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        taskgym.grade_many("taskgym/CodeTests-v0", completions, **options)


@dataclass(frozen=True)
class CrashesOnSome(Task):
    """Its checker breaks on answers containing 'boom'; a bug in a task, not the agent."""

    family: ClassVar[str] = "test"

    def problem(self, seed: int) -> Problem:
        return Problem(id="only", prompt="say ok", solution=("ok",))

    def get(self, task_id: str) -> Problem:
        if task_id != "only":
            raise UnknownTaskIdError(task_id)
        return self.problem(0)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        if "boom" in transcript[-1].action:
            raise RuntimeError("the checker broke")
        ok = transcript[-1].action == "ok"
        return Verdict(parsed=True, passed=int(ok), total=1)


def test_a_broken_grading_costs_only_its_own_completion() -> None:
    gym.register("taskgym-test/CrashesOnSome-v0", entry_point=taskgym.TaskEnv, kwargs={
        "task": CrashesOnSome()})  # fmt: skip
    pairs = [("only", "ok"), ("only", "boom"), ("only", "no")]
    graded = taskgym.grade_many("taskgym-test/CrashesOnSome-v0", pairs)
    assert [g.reward for g in graded] == [1.0, 0.0, 0.0]
    assert graded[1].verdict is None and "the checker broke" in (graded[1].error or "")
    assert graded[0].error is None and graded[2].error is None


@pytest.mark.parametrize("name", ["inline", "process"])
def test_an_executor_grades_as_the_threads_do(name: str) -> None:
    from taskgym.parallel import make_executor

    pairs = []
    for record in RECORDS[:12]:
        pairs.append((record.id, fenced(record.solution)))
        pairs.append((record.id, fenced(f"def {record.entry_point}(*a):\n    return None")))
    by_threads = taskgym.grade_many("taskgym/CodeTests-v0", pairs, workers=2)
    with make_executor(name, concurrency=2) as executor:
        spread = taskgym.grade_many("taskgym/CodeTests-v0", pairs, executor=executor)
        with pytest.raises(ConfigError, match="not both"):
            taskgym.grade_many("taskgym/CodeTests-v0", pairs, workers=2, executor=executor)
        with pytest.raises(UnknownTaskIdError, match="nothing was graded"):
            taskgym.grade_many("taskgym/CodeTests-v0", [("no-such", "x")], executor=executor)
    assert spread == by_threads
    assert [g.reward for g in spread] == [1.0, 0.0] * 12
