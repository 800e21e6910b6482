"""The frozen values of the episode contract validate themselves."""

from __future__ import annotations

import dataclasses

import pytest

from taskgym import Outcome, Problem, Turn, Verdict


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
