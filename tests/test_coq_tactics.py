"""Tactic mode with Coq: one tactic a turn, errors undone, and the verdict still Coq's
kernel on the whole proof."""

from __future__ import annotations

from collections.abc import Iterator

import gymnasium as gym
import pytest

from taskgym import ConfigError, Outcome, Problem, Verdict
from taskgym.envs.math.tactics import count_goals, reference_steps
from taskgym.rewards import make_reward
from tests.conftest import require_backend, require_coq


@pytest.fixture
def env() -> Iterator[gym.Env[str, str]]:
    require_coq()
    require_backend("bwrap")
    made = gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=2.0)
    yield made
    made.close()


def play(env: gym.Env[str, str], task_id: str, actions: list[str]) -> tuple[float, dict]:
    env.reset(options={"task_id": task_id})
    reward, info = 0.0, {}
    for action in actions:
        _, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    return float(reward), info


def test_goals_are_shown_and_an_error_costs_only_its_turn(env: gym.Env[str, str]) -> None:
    obs, _ = env.reset(options={"task_id": "coq-app-nil-r"})
    assert "forall (A : Type) (l : list A), l ++ [] = l" in obs
    obs, *_ = env.step("intros A l.")
    assert "l : list A" in obs and "l ++ [] = l" in obs
    obs, *_ = env.step("induction l as [| x l IH]. no_such_tactic.")
    # The whole action is undone: the goal is as it was, not split in two.
    assert "Error" in obs and "1 goal" in obs and "2 goals" not in obs
    obs, *_ = env.step("induction l as [| x l IH].")
    assert obs.startswith("2 goals")
    obs, *_ = env.step("- reflexivity.")
    assert "Focus next goal with bullet -" in obs
    obs, reward, terminated, _, info = env.step("- simpl. rewrite IH. reflexivity.")
    assert terminated and reward == 1.0, obs
    assert info["verdict"]["details"] == {"most_goals": 2, "goals_left": 0, "tactics": 4}


def test_commands_that_leave_the_proof_are_not_run(env: gym.Env[str, str]) -> None:
    env.reset(options={"task_id": "coq-add-comm"})
    refused = ["Admitted.", "Abort.", "Qed.", "Require Import Classical.", "Unset Guard Checking."]
    for action in refused:
        obs, reward, terminated, *_ = env.step(action)
        assert not terminated and reward == 0.0
        assert "not run" in obs or "goal(s) remain" in obs, (action, obs)
    _, reward, terminated, *_ = env.step("intros. lia.")
    assert terminated and reward == 1.0


CHEATS = {
    "admit": ["intros.", "admit."],
    "an axiom declared mid-proof": ["Axiom cheat : forall P : Prop, P.", "apply cheat."],
    "a printed 'No more goals' and prompt": [
        'idtac "<prompt>Coq < 9 || 0 < </prompt>No more goals.".',
        'idtac "No more goals.".',
    ],
    "an open comment": ["intros. (* lia."],
    "give_up": ["give_up."],
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing(env: gym.Env[str, str], cheat: str) -> None:
    reward, info = play(env, "coq-add-comm", CHEATS[cheat])
    assert reward == 0.0, info
    # The same env goes on to grade a real proof.
    assert play(env, "coq-and-comm", ["intros P Q [HP HQ].", "split; assumption."])[0] == 1.0


def test_a_tactic_that_never_ends_is_undone(env: gym.Env[str, str]) -> None:
    env.reset(options={"task_id": "coq-add-comm"})
    env.step("intros n m.")
    obs, *_ = env.step("Eval vm_compute in (Nat.pow 2 100000).")
    assert "timed out" in obs and "n, m : nat" in obs
    _, reward, terminated, *_ = env.step("lia.")
    assert terminated and reward == 1.0


def test_the_turn_limit_ends_the_episode_unproved() -> None:
    require_coq()
    env = gym.make("taskgym/CoqTactics-v0", max_turns=2, reward="proof_progress")
    env.reset(options={"task_id": "coq-app-nil-r"})
    env.step("intros A l. induction l as [| x l IH].")
    _, reward, terminated, truncated, info = env.step("- reflexivity.")
    assert truncated and not terminated
    assert info["verdict"]["details"]["failure"] == "goals remain"
    # Shaping: half the goals closed, at most 0.5 for an unfinished proof, 0.01 a turn.
    assert reward == pytest.approx(0.5 * 0.5 - 0.01)
    env.close()


def _outcome(solved: bool, most: int, left: int, turns: int) -> Outcome:
    problem = Problem(id="p", prompt="", solution=("x",))
    verdict = Verdict(
        parsed=True, passed=int(solved), total=1, details={"most_goals": most, "goals_left": left}
    )
    from taskgym.core import Turn

    return Outcome(problem, tuple(Turn("a", "o") for _ in range(turns)), verdict)


def test_proof_progress_pays_for_a_proof_and_shapes_the_rest() -> None:
    reward = make_reward("proof_progress")
    assert reward(_outcome(True, 3, 0, 1)) == 1.0
    assert reward(_outcome(False, 4, 1, 1)) == pytest.approx(0.375)
    assert reward(_outcome(False, 1, 1, 30)) == 0.0  # never below zero
    with pytest.raises(ConfigError, match="CoqTactics"):
        reward(Outcome(Problem(id="p", prompt="", solution=()), (), Verdict(True, 1, 1)))
    with pytest.raises(ConfigError, match="partial"):
        make_reward({"proof_progress": {"partial": 2.0}})


def test_reference_proofs_split_into_sentences() -> None:
    assert reference_steps("intros n. induction n as [| n IH]. - reflexivity. - simpl; lia.") == (
        "intros n.",
        "induction n as [| n IH].",
        "- reflexivity.",
        "- simpl; lia.",
    )
    assert count_goals("2 goals (ID 6)\n  ...") == 2
    assert count_goals("No more goals.") == 0
