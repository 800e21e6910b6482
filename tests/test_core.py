"""The frozen values of the episode contract validate themselves."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from taskgym import ConfigError, Execution, Outcome, Problem, Task, Turn, Verdict
from taskgym.sandboxes import Sandbox


def test_problem_is_frozen_and_rejects_bad_fields() -> None:
    p = Problem(id="a", prompt="q", solution=("x",), data={"k": [1, 2]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.id = "b"  # type: ignore[misc]
    with pytest.raises(ValueError, match="non-empty str"):
        Problem(id="", prompt="q", solution=())
    with pytest.raises(ValueError, match="tuple of str"):
        Problem(id="a", prompt="q", solution=["x"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON"):
        Problem(id="a", prompt="q", solution=(), data={"f": object()})


def test_verdict_solved_and_fraction() -> None:
    assert Verdict(True, 2, 2).solved
    assert not Verdict(True, 1, 2).solved
    assert Verdict(True, 1, 4).fraction == 0.25
    assert not Verdict(True, 0, 0).solved and Verdict(True, 0, 0).fraction == 0.0
    unparsed = Verdict.unparsed("no answer", expected="4")
    assert not unparsed.solved and unparsed.details == {"reason": "no answer", "expected": "4"}


@pytest.mark.parametrize(
    ("parsed", "passed", "total"), [(True, 3, 2), (True, -1, 2), (False, 1, 1)]
)
def test_verdict_rejects_impossible_counts(parsed: bool, passed: int, total: int) -> None:
    with pytest.raises(ValueError, match="passed"):
        Verdict(parsed, passed, total)


def test_verdict_details_must_be_json_and_to_dict_is_a_fresh_copy() -> None:
    with pytest.raises(ValueError, match="JSON"):
        Verdict(True, 1, 1, {"x": {1, 2}})
    with pytest.raises(ValueError, match="JSON"):
        Verdict(True, 1, 1, {"x": float("nan")})
    v = Verdict(True, 1, 1, {"nested": {"a": 1}})
    d = v.to_dict()
    d["details"]["nested"]["a"] = 2
    assert v.details["nested"]["a"] == 1


def test_outcome_counts_turns() -> None:
    p = Problem(id="a", prompt="q", solution=())
    outcome = Outcome(p, (Turn("a", "b"), Turn("c", "")), Verdict(True, 1, 1))
    assert outcome.turns == 2 and not outcome.truncated


class _Plain(Task):
    def problem(self, seed: int) -> Problem:
        return Problem(id=f"p-{seed}", prompt="?", solution=("x",))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return Verdict(True, 1, 1)


def test_execution_defaults_and_normalises_what_it_is_given() -> None:
    assert _Plain.execution == Execution() == Task.execution
    assert not Execution().needs_sandbox and Execution().quick_stages == frozenset()
    given = Execution(
        needs_sandbox=True,
        sandbox_backends=["bwrap", "local"],  # type: ignore[arg-type]
        quick_stages=("problem", "check"),  # type: ignore[arg-type]
    )
    assert given.sandbox_backends == ("bwrap", "local")
    assert given.quick_stages == frozenset({"problem", "check"})
    assert hash(given) == hash(dataclasses.replace(given))


@pytest.mark.parametrize(
    ("hints", "message"),
    [
        ({"quick_stages": {"problem", "reply"}}, r"quick_stages names \['reply'\]; the stages"),
        ({"quick_stages": "check"}, "quick_stages must be a collection of names"),
        ({"needs_sandbox": 1}, "needs_sandbox must be True or False"),
        ({"needs_sandbox": True, "sandbox_backends": ("",)}, "non-empty str names"),
        ({"sandbox_backends": ("bwrap",)}, "set needs_sandbox=True too"),
        ({"runs_only_in_zygote": True}, "set needs_sandbox=True too"),
    ],
)
def test_execution_refuses_bad_hints(hints: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Execution(**hints)


def test_a_task_with_a_bad_hint_is_refused_when_its_class_is_defined() -> None:
    with pytest.raises(ConfigError, match=r"quick_stages names \['reply'\]"):

        class _Misdeclared(_Plain):
            execution: ClassVar[Execution] = Execution(quick_stages={"reply"})  # type: ignore[arg-type]


def test_the_hints_as_class_attributes_still_work_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"Execution\(needs_sandbox=True") as warned:

        class OldStyle(_Plain):
            needs_sandbox = True
            sandbox_backends = ("bwrap", "local")

    assert warned[0].filename == __file__  # the warning points at the class
    assert OldStyle.execution == Execution(needs_sandbox=True, sandbox_backends=("bwrap", "local"))
    with pytest.warns(DeprecationWarning, match="quick_stages"):

        class OlderStill(OldStyle):  # adds to what it inherits
            quick_stages = frozenset({"problem"})
            runs_only_in_zygote = True

    assert OlderStill.execution == dataclasses.replace(
        OldStyle.execution, quick_stages=frozenset({"problem"}), runs_only_in_zygote=True
    )
    with (
        pytest.warns(DeprecationWarning, match="OldAndWrong"),
        pytest.raises(ConfigError, match="quick_stages"),
    ):

        class OldAndWrong(_Plain):
            quick_stages = frozenset({"reply"})


def test_a_task_that_sets_both_the_old_hints_and_execution_is_refused() -> None:
    with pytest.raises(ConfigError, match="sets both execution and"):

        class Both(_Plain):
            execution: ClassVar[Execution] = Execution(needs_sandbox=True)
            needs_sandbox = True


def test_keep_warm_defaults_to_false_for_every_task() -> None:
    # The zygote-only tasks' scrub is the env's (taskgym.envs.sandboxing.kept_warm).
    @dataclasses.dataclass(frozen=True)
    class Zygotic(_Plain):
        execution: ClassVar[Execution] = Execution(needs_sandbox=True, runs_only_in_zygote=True)

    assert Zygotic().keep_warm(None) is False  # type: ignore[arg-type]
