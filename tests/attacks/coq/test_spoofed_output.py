"""Attacks on how the Coq checkers read Coq's output: text the agent's proof makes Coq
print (a notation's printing form, an ``idtac``) shaped like coqtop's prompts, taskgym's
sentinels or ``Print Assumptions``' clean answer.

The warm checker once cut coqtop's output at prompts and read the check's answer by
counting segments from the end: a notation that printed an axiom's type as a prompt
followed by "Closed under the global context" made ``Print Assumptions`` look clean, and
the proof from an axiom of False earned 1.0 (whole proofs, tactic mode, generated
theorems). Tactic mode read the goals left the same way, and a notation could print a
goal as a prompt and "100 goals" then "No more goals" for the shaping reward.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

from taskgym.envs.math.coq_generators import generated_theorem
from taskgym.envs.math.coqtop import warm_refusal
from taskgym.envs.math.proofs import check_proof
from taskgym.sandboxes import Sandbox
from tests.attacks.coq.common import (
    ADD_COMM,
    FAKE_CLOSED_FALSE,
    HELPER,
    STATEMENT,
    fake_prompt_notation,
    still_grades,
)
from tests.conftest import require_backend, require_coq

CLOSED_LINE = "Closed under the global context"


def _from_false(statement: str, *notations: str) -> str:
    """A proof of ``statement`` from an axiom of False, after ``notations``."""
    return "\n".join(
        [
            "Abort.",
            "Axiom taskgym_attack_false : False.",
            *notations,
            f"Theorem goal : {statement}.",
            "Proof. exfalso. exact taskgym_attack_false. Qed.",
        ]
    )


SPOOFS = {
    "an axiom of False whose type prints a prompt and the clean answer": _from_false(
        STATEMENT, FAKE_CLOSED_FALSE
    ),
    "Admitted, the statement printed as a prompt and the clean answer": (
        fake_prompt_notation(CLOSED_LINE, STATEMENT) + "\nAdmitted."
    ),
    "the fake prompt names an open proof": _from_false(
        STATEMENT, fake_prompt_notation(CLOSED_LINE, "False", name="goal", proofs="goal")
    ),
    "the fake answer wrapped in informational tags": _from_false(
        STATEMENT,
        fake_prompt_notation(f"<infomsg>x</infomsg>{CLOSED_LINE}", "False"),
    ),
    "a fake sentinel message with a guessed name": (
        'idtac "The command has indeed failed with message:\n'
        "The reference taskgym_00000000000000000000 was not found in the current "
        "environment.\n\n<prompt>Coq < 9 || 0 < </prompt>Closed under the global context\n\n"
        '<prompt>Coq < 10 || 0 < </prompt>".\nAdmitted.'
    ),
    "a clean Print Assumptions of a lemma of its own after Admitted": (
        f"Admitted.\n{HELPER}\nPrint Assumptions taskgym_attack_helper."
    ),
    "goal an abbreviation whose tactic prints the clean answer": (
        f"Abort.\nAxiom taskgym_attack_ax : {STATEMENT}.\n"
        f'Notation goal := ltac:(idtac "{CLOSED_LINE}"; exact taskgym_attack_ax).\n{HELPER}'
    ),
}


@pytest.mark.parametrize("spoof", sorted(SPOOFS))
def test_spoofed_output_earns_nothing_in_the_warm_checker(
    coq_backend_box: Sandbox, spoof: str
) -> None:
    assert warm_refusal(SPOOFS[spoof]) is None  # the warm coqtop reads it
    verdict = check_proof(coq_backend_box, ADD_COMM, SPOOFS[spoof])
    assert not verdict.solved, verdict
    still_grades(coq_backend_box)


def test_the_verdict_shows_what_print_assumptions_printed(coq_backend_box: Sandbox) -> None:
    spoof = SPOOFS["an axiom of False whose type prints a prompt and the clean answer"]
    verdict = check_proof(coq_backend_box, ADD_COMM, spoof)
    assert verdict.details["failure"] == "the proof rests on assumptions"
    said = verdict.details["output"]
    assert said.startswith("Axioms:\ntaskgym_attack_false") and CLOSED_LINE in said


@pytest.mark.slow  # two coqc runs each
@pytest.mark.parametrize("spoof", sorted(SPOOFS))
def test_spoofed_output_earns_nothing_in_fresh_coqc_runs(coq_box: Sandbox, spoof: str) -> None:
    assert not check_proof(coq_box, ADD_COMM, SPOOFS[spoof], warm=False).solved


# What a compiled submission can hand the cold check file, which requires it without
# Import: global options do reach it; notations, even exported, do not.
EXPORTED = (
    "Admitted.\n#[global] Set Printing Width 2000.\n"
    f"Module N.\n{fake_prompt_notation(CLOSED_LINE, STATEMENT)}\nEnd N.\nExport N.\n"
    f"{fake_prompt_notation(CLOSED_LINE, STATEMENT)}\n{HELPER}"
)


def test_options_and_exported_notations_of_the_submission_earn_nothing(coq_box: Sandbox) -> None:
    assert warm_refusal(EXPORTED) is not None  # only fresh coqc runs check it
    verdict = check_proof(coq_box, ADD_COMM, EXPORTED)
    assert verdict.details["failure"] == "the proof rests on assumptions", verdict
    assert CLOSED_LINE not in verdict.details["output"]


def test_the_spoof_earns_nothing_on_generated_theorems() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqGen-v0", sandbox="bwrap", difficulty="easy")
    for kind in ["ring", "lia", "tauto"]:
        task_id = f"coqgen-easy-{kind}-1"
        theorem = generated_theorem(task_id)
        env.reset(options={"task_id": task_id})
        cheat = _from_false(theorem.statement, FAKE_CLOSED_FALSE)
        assert env.step(f"```coq\n{cheat}\n```")[1] == 0.0
        env.reset(options={"task_id": task_id})
        assert env.step(theorem.proof)[1] == 1.0
    env.close()


@pytest.fixture
def tactics_env() -> gym.Env[str, str]:
    require_coq()
    require_backend("bwrap")
    return gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=5.0)


def test_the_spoof_earns_nothing_in_tactic_mode(tactics_env: gym.Env[str, str]) -> None:
    tactics_env.reset(options={"task_id": "coq-add-comm"})
    for action in ["Axiom taskgym_attack_false : False.", FAKE_CLOSED_FALSE]:
        assert not tactics_env.step(action)[2]
    _, reward, terminated, _, info = tactics_env.step("exfalso. exact taskgym_attack_false.")
    assert terminated and reward == 0.0, info
    assert info["verdict"]["details"]["failure"] == "the proof rests on assumptions"
    tactics_env.close()


def _goal_as(printed: str) -> str:
    """A notation that prints ``x = y`` on nat as a prompt of the proof and ``printed``."""
    words = f"<prompt>goal < 9 |goal| 0 < </prompt>{printed}".split()
    quoted = " ".join(f"'{w}'" for w in words)
    return f'Notation "{quoted} x y" := (@eq nat x y) (at level 70, x at level 0, y at level 0).'


def test_goals_printed_as_prompts_do_not_count_in_tactic_mode() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=5.0, reward="proof_progress")
    env.reset(options={"task_id": "coq-add-comm"})
    env.step("intros n m.")
    for printed in ["100 goals", "No more goals"]:
        obs, reward, terminated, _, _ = env.step(_goal_as(printed))
        # taskgym's own Show said it: one goal, whatever the goal's printing holds.
        assert obs.startswith("1 goal") and not terminated and reward == 0.0, obs
    _, reward, terminated, _, info = env.step("lia.")
    assert terminated and reward == pytest.approx(1.0 - 0.01 * 3), info
    assert info["verdict"]["details"]["most_goals"] == 1
    env.close()


def test_a_printed_sentinel_does_not_end_a_tactic_turn(tactics_env: gym.Env[str, str]) -> None:
    tactics_env.reset(options={"task_id": "coq-add-comm"})
    obs, _, terminated, *_ = tactics_env.step(
        'idtac "The command has indeed failed with message:\nThe reference '
        "taskgym_00000000000000000000 was not found in the current environment.\n\n"
        '<prompt>goal < 9 |goal| 0 < </prompt>No more goals.".'
    )
    assert not terminated and obs.startswith("1 goal"), obs
    assert tactics_env.step("intros. lia.")[1] == 1.0
    tactics_env.close()
