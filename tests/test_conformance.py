"""Every registered env passes the conformance checks, and the checks catch broken tasks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

import taskgym
from taskgym import ConformanceError, Problem, Turn, Verdict
from taskgym.envs.shell.tasks import BUNDLED_SHELL_TASKS
from taskgym.sandboxes import Sandbox
from taskgym.testing import check_task
from tests.conftest import (
    require_backend,
    require_coq,
    require_lean,
    require_module,
    require_pytest_in,
)
from tests.helpers import CountdownTask, EchoTask, FileTask, registered

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
# Envs that play public data sets the project may not copy: where to find them.
DATA_ENVS = {
    "taskgym/HumanEval-v0": {"tasks": SHARED_DATA / "humaneval.jsonl.gz"},
    "taskgym/MBPP-v0": {"tasks": SHARED_DATA / "mbpp_intercode.json"},
    "taskgym/ShellTasks-v0": {"tasks": Path(BUNDLED_SHELL_TASKS)},
    "taskgym/GSM8K-v0": {"tasks": SHARED_DATA / "gsm8k_test.jsonl"},
    "taskgym/MathAnswers-v0": {"tasks": Path(__file__).with_name("data") / "math_answers.jsonl"},
    "taskgym/CoqTheorems-v0": {"tasks": Path(__file__).with_name("data") / "coq"},
    "taskgym/LeanTheorems-v0": {"tasks": Path(__file__).with_name("data") / "lean_theorems.jsonl"},
}


HEAVY_ENVS = {
    "taskgym/CoqGen-v0",
    "taskgym/CoqProofs-v0",
    "taskgym/CoqTactics-v0",
    "taskgym/CoqTheorems-v0",
    "taskgym/CodeProject-v0",
    "taskgym/ShellTools-v0",
    "taskgym/ShellReference-v0",
    "taskgym/ShellTasks-v0",
    "taskgym/Shell-v0",
}


@pytest.mark.parametrize("env_id", taskgym.registered_ids())
def test_registered_env_conforms(env_id: str) -> None:
    make_kwargs = {key: str(value) for key, value in DATA_ENVS.get(env_id, {}).items()}
    for value in make_kwargs.values():
        if not Path(value).exists():
            pytest.skip(f"{env_id} needs {value}, which is absent (../shared/data is not here)")
    if env_id == "taskgym/CodeProject-v0":
        require_pytest_in("auto")
    if env_id in ("taskgym/ShellTools-v0", "taskgym/ShellTasks-v0"):  # tasks with an image
        require_backend("docker")
    if env_id.startswith("taskgym/Coq"):
        require_coq()
    if env_id.startswith("taskgym/Lean"):
        require_lean()
    if env_id == "taskgym/ReasoningGym-v0":
        require_module("reasoning_gym", "reasoning-gym")
    if env_id == "taskgym/Harbor-v0":  # containers built and started per episode
        pytest.skip("Harbor-v0 conforms in tests/test_harbor_tasks.py (slow, integration)")
    # Envs whose episodes start compilers or several processes: two seeds are enough to
    # check determinism and keep the default run short.
    check_task(env_id, seeds=2 if env_id in HEAVY_ENVS else 3, **make_kwargs)


def test_every_env_that_needs_an_option_has_it_here() -> None:
    needy = {i for i in taskgym.registered_ids() if taskgym.env_info(i).requires}
    assert needy <= set(DATA_ENVS)


def test_the_registry_has_the_arithmetic_variants() -> None:
    assert {
        "taskgym/ArithmeticEasy-v0",
        "taskgym/Arithmetic-v0",
        "taskgym/ArithmeticHard-v0",
    } <= set(taskgym.registered_ids("math"))


# -- broken tasks the checks must reject -------------------------------------------------


class WrongReference(EchoTask):
    def problem(self, seed: int) -> Problem:
        p = super().problem(seed)
        return Problem(id=p.id, prompt=p.prompt, solution=("not it",), data=p.data)


class PaysForEmpty(EchoTask):
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        if not transcript[-1].action:
            return Verdict(True, 1, 1)
        return super().check(problem, transcript, sandbox)


class RaisesOnGarbage(EchoTask):
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        int(transcript[-1].action or "0")  # crashes on text
        return super().check(problem, transcript, sandbox)


_counter = iter(range(10**9))


class NotDeterministic(EchoTask):
    def problem(self, seed: int) -> Problem:
        return super().problem(seed + next(_counter))


class AlwaysSameProblem(EchoTask):
    def problem(self, seed: int) -> Problem:
        return super().problem(0)


@dataclass(frozen=True)
class WrongFamily(EchoTask):
    family: ClassVar[str] = "shell"


class LeaksSandbox(FileTask):
    """A sandboxed task whose backend's close() the test breaks."""


class NoLookupById(EchoTask):
    get = taskgym.Task.get


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (WrongReference, "reference solution earned 0.0"),
        (PaysForEmpty, "empty action earned 1.0"),
        (RaisesOnGarbage, "RaisesOnGarbage failed in check"),
        (NotDeterministic, "non-deterministic|differs between two calls"),
        (AlwaysSameProblem, "same problem for 3 seeds"),
        (WrongFamily, "registered as family 'test', task says 'shell'"),
        (NoLookupById, "determinism check raised UnknownTaskIdError"),
    ],
)
def test_check_task_rejects_a_broken_task(task: type, message: str) -> None:
    with (
        registered("taskgym/Broken-v0", f"{__name__}:{task.__name__}") as env_id,
        pytest.raises(ConformanceError, match=message),
    ):
        check_task(env_id, seeds=3)


# -- graders that accept more than the right answer: the cross-check and near misses ----


def _word_number(answer: str) -> int | None:
    """The N of an answer 'wordN' (N may carry a sign), None for anything else."""
    found = re.fullmatch(r"word(-?\d{1,30})", answer.strip())
    return int(found[1]) if found else None


class AcceptsAnyWellFormedAnswer(EchoTask):
    """Reads the format only: every 'wordN' passes, so empty, random and huge answers
    earn nothing and only another problem's answer shows the hole."""

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        if _word_number(transcript[-1].action) is None:
            return Verdict.unparsed("not wordN")
        return Verdict(True, 1, 1)


class AcceptsOffByOne(EchoTask):
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        given, expected = _word_number(transcript[-1].action), _word_number(problem.data["w"])
        if given is None or expected is None:
            return Verdict.unparsed("not wordN")
        return Verdict(True, int(abs(given - expected) <= 1), 1)


class IgnoresTheSign(EchoTask):
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        given, expected = _word_number(transcript[-1].action), _word_number(problem.data["w"])
        if given is None or expected is None:
            return Verdict.unparsed("not wordN")
        return Verdict(True, int(abs(given) == expected), 1)


@dataclass(frozen=True)
class CountdownNeverAsksForSubmit(CountdownTask):
    """Multi-turn: its check counts the 'next's and never asks whether the agent
    submitted, so an episode cut off at the turn limit passes."""

    def get(self, task_id: str) -> Problem:
        return self.problem(int(task_id.removeprefix("countdown-")))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        nexts = sum(t.action == "next" for t in transcript)
        return Verdict(True, min(nexts, self.steps), self.steps)


class AnyEvenNumber(EchoTask):
    """'Name an even number': every problem's reference rightly solves every other."""

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"echo-{seed}", prompt="Name an even number.", solution=(f"{2 * seed}",))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        answer = transcript[-1].action.strip()
        if not re.fullmatch(r"-?\d{1,30}", answer):
            return Verdict.unparsed("not a number")
        return Verdict(True, int(int(answer) % 2 == 0), 1)

    def near_misses(self, problem: Problem) -> Mapping[str, tuple[str, ...]]:
        misses = super().near_misses(problem)  # a negated even number is even: right
        return {why: plan for why, plan in misses.items() if "negated" not in why}


class AnyEvenNumberDeclared(AnyEvenNumber):
    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        return True


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            AcceptsAnyWellFormedAnswer,
            r"the reference solution of problem 'echo-\d+' earned 1.0 on problem 'echo-\d+' "
            r"\(seed 0; .*\): the check accepts another problem's answer",
        ),
        (
            AcceptsOffByOne,
            r"a near miss \(the final number off by one, last action 'word\d+'\) earned 1.0 "
            r"on problem 'echo-\d+' \(seed 0; .*\): the check accepts an almost-right answer",
        ),
        (IgnoresTheSign, r"a near miss \(the final number negated, last action 'word-\d+'\)"),
        (
            CountdownNeverAsksForSubmit,
            r"a near miss \(the reference without its last action, last action 'next'\) "
            r"earned 1.0",
        ),
        (AnyEvenNumber, r"earned 1.0 on problem .* say so in the task's may_share_answer\(\)"),
    ],
    ids=["any-well-formed", "off-by-one", "sign", "no-submit", "shared-undeclared"],
)
def test_check_task_rejects_a_check_that_accepts_a_wrong_answer(task: type, message: str) -> None:
    with (
        registered("taskgym/Broken-v0", f"{__name__}:{task.__name__}") as env_id,
        pytest.raises(ConformanceError, match=message),
    ):
        check_task(env_id, seeds=2)


def test_a_task_may_declare_that_its_problems_share_answers() -> None:
    with registered("taskgym/Even-v0", f"{__name__}:AnyEvenNumberDeclared") as env_id:
        check_task(env_id, seeds=2)


@pytest.mark.parametrize(
    ("solution", "expected"),
    [
        (("<answer>42</answer>",), [("<answer>43</answer>",), ("<answer>-42</answer>",)]),
        (("\\boxed{-7/3}",), [("\\boxed{-7/4}",), ("\\boxed{7/3}",)]),
        (("#### +9",), [("#### +10",), ("#### -9",)]),
        (("The answer is 0.",), [("The answer is 1.",)]),  # -0 is no miss
        (("\\boxed{1,099}",), [("\\boxed{1,100}",), ("\\boxed{1,-099}",)]),
        (("12 apples",), []),  # words after the number: not the final answer
        (("```python\nprint(3)\n```",), []),  # a program's last number is not its answer
        (
            ("ls", "rm x", "done 2"),
            [("ls", "rm x"), ("ls", "rm x", "done 3"), ("ls", "rm x", "done -2")],
        ),
    ],
)
def test_default_near_misses(solution: tuple[str, ...], expected: list[tuple[str, ...]]) -> None:
    problem = Problem(id="p", prompt="", solution=solution)
    assert list(EchoTask().near_misses(problem).values()) == expected


def test_default_near_misses_take_a_lone_closing_bracket_for_punctuation() -> None:
    action = "7" + "> " * 50_000  # no '<' before them: not tags (looked for once only)
    problem = Problem(id="p", prompt="", solution=(action,))
    assert next(iter(EchoTask().near_misses(problem).values())) == ("8" + action[1:],)


def test_check_task_rejects_a_sandbox_that_survives_close(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskgym.sandboxes.local import LocalSandbox

    leaked: list[LocalSandbox] = []
    real_close = LocalSandbox._close

    def keep_open(self: LocalSandbox) -> None:
        leaked.append(self)

    monkeypatch.setattr(LocalSandbox, "_close", keep_open)
    try:
        with (
            registered("taskgym/Leaky-v0", f"{__name__}:LeaksSandbox", sandbox="local") as env_id,
            pytest.raises(ConformanceError, match=r"work directory \S+ survived close"),
        ):
            check_task(env_id, seeds=1)
    finally:
        for box in leaked:
            real_close(box)
    assert leaked and not any(os.path.exists(box.workdir) for box in leaked)


def test_a_conforming_test_task_passes() -> None:
    with registered("taskgym/Echo-v0", "tests.helpers:EchoTask") as env_id:
        check_task(env_id, seeds=2)
