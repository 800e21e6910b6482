"""Built-in rewards, composition, and the name registry."""

from __future__ import annotations

from typing import Any

import pytest

from taskgym import ConfigError, Outcome, Problem, Turn, UnknownNameError, Verdict
from taskgym.rewards import REWARDS, make_reward, register_reward, reward_names


def outcome(verdict: Verdict, turns: int = 1) -> Outcome:
    problem = Problem(id="p", prompt="q", solution=("a",))
    return Outcome(problem, tuple(Turn("a", "") for _ in range(turns)), verdict)


SOLVED = outcome(Verdict(True, 4, 4))
HALF = outcome(Verdict(True, 2, 4))
UNPARSED = outcome(Verdict.unparsed("bad format", total=4))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("binary", (1.0, 0.0, 0.0)),
        ("fraction_passed", (1.0, 0.5, 0.0)),
        ("format", (1.0, 1.0, 0.0)),
        ({"weighted": [["binary", 0.5], ["format", 0.5]]}, (1.0, 0.5, 0.0)),
        ({"weighted": {"terms": {"fraction_passed": 2.0}}}, (2.0, 1.0, 0.0)),
        ({"gated": {"reward": "fraction_passed", "gate": "binary"}}, (1.0, 0.0, 0.0)),
        ({"gated": {"reward": "fraction_passed"}}, (1.0, 0.5, 0.0)),
    ],
)
def test_builtin_rewards_pay_as_documented(spec: Any, expected: tuple[float, ...]) -> None:
    reward = make_reward(spec)
    assert (reward(SOLVED), reward(HALF), reward(UNPARSED)) == expected


def test_step_penalty_charges_turns_after_the_first() -> None:
    reward = make_reward({"step_penalty": {"per_step": 0.25}})
    assert reward(outcome(Verdict(True, 1, 1), turns=1)) == 0.0
    assert reward(outcome(Verdict(True, 1, 1), turns=3)) == -0.5
    with pytest.raises(ConfigError, match="per_step must be >= 0"):
        make_reward({"step_penalty": {"per_step": -1}})


def test_a_callable_is_used_as_it_is() -> None:
    def constant(o: Outcome) -> float:
        return 0.3

    assert make_reward(constant) is constant


def test_unknown_and_malformed_specs_say_what_is_accepted() -> None:
    with pytest.raises(UnknownNameError, match="choose one of: 'binary'"):
        make_reward("binaryy")
    with pytest.raises(UnknownNameError, match="unknown reward 'nope'"):
        make_reward({"weighted": [["nope", 1.0]]})
    with pytest.raises(ConfigError, match="exactly one key"):
        make_reward({"binary": None, "format": None})
    with pytest.raises(ConfigError, match="bad options for reward 'binary'"):
        make_reward({"binary": {"scale": 2}})
    with pytest.raises(ConfigError, match=r"\[reward, weight\] pairs"):
        make_reward({"weighted": [["binary"]]})
    with pytest.raises(ConfigError, match="at least one"):
        make_reward({"weighted": []})
    with pytest.raises(ConfigError, match="a reward is a name"):
        make_reward(3)  # type: ignore[arg-type]


def test_registered_rewards_are_usable_by_name() -> None:
    register_reward("half", lambda: lambda o: 0.5)
    try:
        assert "half" in reward_names()
        assert make_reward("half")(SOLVED) == 0.5
    finally:
        REWARDS.unregister("half")
