"""Red team of the Coq checkers with nothing but the proof's text: commands that undo,
hide or bypass, declarations the kernel lists as assumptions, resources, and what a
warm coqtop or a cold coqc leaves for the next proof. tests/test_coq_proofs.py holds
the first round (Admitted, axioms, sections, guard checking, Require...)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym.envs.math.coqtop import coqtop_for, warm_refusal, warm_sessions
from taskgym.envs.math.proofs import CoqTheorem, check_proof
from taskgym.sandboxes import Sandbox
from tests.attacks.coq.common import (
    ADD_COMM,
    HELPER,
    STATEMENT,
    fake_prompt_notation,
    still_grades,
)
from tests.conftest import require_backend, require_coq


def _restated(*before: str, proof: str = "exact taskgym_attack_ax.") -> str:
    """Abort the theorem, declare ``before``, state it again and prove it with ``proof``."""
    return "\n".join(["Abort.", *before, f"Theorem goal : {STATEMENT}.", f"Proof. {proof} Qed."])


CHEATS = {
    "Program Definition with admitted obligations": (
        f"Abort.\nProgram Definition goal : {STATEMENT} := _.\nAdmit Obligations.\n{HELPER}"
    ),
    "a field of a declared module": (
        f"Abort.\nModule Type T. Axiom g : {STATEMENT}. End T.\nDeclare Module M : T.\n"
        f"Definition goal : {STATEMENT} := M.g.\n{HELPER}"
    ),
    "a Parameter of an included module type": (
        f"Abort.\nModule Type T. Parameter g : {STATEMENT}. End T.\nInclude T.\n"
        f"Definition goal : {STATEMENT} := g.\n{HELPER}"
    ),
    "goal an abbreviation of an axiom": (
        f"Abort.\nAxiom taskgym_attack_ax : {STATEMENT}.\nNotation goal := taskgym_attack_ax.\n"
        + HELPER
    ),
    "type-in-type by attribute": _restated(
        "#[bypass_check(universes)] Definition taskgym_attack_u : Type := Type.",
        proof="pose (u := taskgym_attack_u). intros. lia.",
    ),
    "universe checking turned off": _restated(
        "Unset Universe Checking.",
        "Definition taskgym_attack_u : Type := Type.",
        "Set Universe Checking.",
        proof="pose (u := taskgym_attack_u). intros. lia.",
    ),
    "definitional UIP": _restated(
        "Set Definitional UIP.",
        "Inductive taskgym_attack_seq {A} (a : A) : A -> SProp := srefl : taskgym_attack_seq a a.",
        proof="pose (s := @taskgym_attack_seq). intros. lia.",
    ),
    "proof irrelevance from the stdlib": _restated(
        "Require Import Coq.Logic.ProofIrrelevance.",
        proof="pose (p := proof_irrelevance). intros. lia.",
    ),
    "Back to before the axiom's use": _restated(
        f"Axiom taskgym_attack_ax : {STATEMENT}.", proof="exact taskgym_attack_ax."
    )
    + "\nBack 2.",
    "errors hidden by Fail": "intros. Fail lia. Fail Qed.\nAdmitted.",
    "Qed run by Succeed (and rolled back)": "intros. lia. Succeed Qed.",
    "Admitted under a Timeout": "intros. Timeout 5 Admitted.",
    "a Let outside any section": _restated(f"Let taskgym_attack_ax : {STATEMENT}.", "Admitted."),
    "a second proof left open": f"intros. lia. Qed.\nLemma taskgym_attack_open : {STATEMENT}.",
    "Drop": "intros. lia. Qed.\nDrop.",
    "Quit before Qed": "intros. Quit.",
    "BackTo the state before the proof": "intros. lia. Qed.\nBackTo 1.",
    "Undo of the failing step": "intros. reflexivity. Undo. admit.\nQed.",
    "a guess at the check's name": (
        f"Abort.\nAxiom taskgym_attack_ax : {STATEMENT}.\n"
        "Definition taskgym_check_000000000000 := taskgym_attack_ax.\n"
        f"Theorem goal : {STATEMENT}.\nProof. exact taskgym_attack_ax. Qed."
    ),
    "native_compute (no native compiler here)": "intros. native_compute. lia.\nAdmitted.",
}


# The exact reading of the check must not turn real proofs away: forms coqc accepts.
PROOFS = {
    "the theorem restated": f"Abort.\nTheorem goal : {STATEMENT}.\nProof. intros; lia. Qed.",
    "restated as a Lemma": f"Abort.\nLemma goal : {STATEMENT}.\nProof. intros; lia. Qed.",
    "Defined": "intros. lia. Defined.",
    "braces": "intros n m. { lia. }",
    "bullets": "intros n m. induction n as [|n IH]. - simpl. lia. - simpl. lia.",
    "a lemma after the proof": f"intros. lia. Qed.\n{HELPER}",
    "Show before Qed": "intros. lia. Show. Qed.",
    "Fail and Succeed inside": "intros. Fail reflexivity. Succeed lia. lia.",
}


@pytest.mark.parametrize("proof", sorted(PROOFS))
def test_real_proofs_in_every_form_pass_the_warm_checker(
    coq_backend_box: Sandbox, proof: str
) -> None:
    assert warm_refusal(PROOFS[proof]) is None
    assert check_proof(coq_backend_box, ADD_COMM, PROOFS[proof]).solved


@pytest.mark.slow  # two coqc runs each
@pytest.mark.parametrize("proof", sorted(PROOFS))
def test_real_proofs_in_every_form_pass_fresh_coqc_runs(coq_box: Sandbox, proof: str) -> None:
    assert check_proof(coq_box, ADD_COMM, PROOFS[proof], warm=False).solved


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing_in_the_warm_checker(coq_backend_box: Sandbox, cheat: str) -> None:
    verdict = check_proof(coq_backend_box, ADD_COMM, CHEATS[cheat])
    assert not verdict.solved, verdict
    still_grades(coq_backend_box)


@pytest.mark.slow  # two coqc runs each
@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing_in_fresh_coqc_runs(coq_box: Sandbox, cheat: str) -> None:
    assert not check_proof(coq_box, ADD_COMM, CHEATS[cheat], warm=False).solved


def test_a_cast_checked_by_the_vm_is_a_proof(coq_backend_box: Sandbox) -> None:
    power = CoqTheorem("pow", "2 ^ 10 = 1024", "", imports="Require Import Arith.")
    assert check_proof(coq_backend_box, power, "exact (eq_refl 1024 <: 2 ^ 10 = 1024).").solved
    assert not check_proof(coq_backend_box, power, "exact (eq_refl 1023 <: 2 ^ 10 = 1024).").solved
    # A native cast needs a native compiler, which this Coq cannot run: an error.
    native = check_proof(coq_backend_box, power, "exact (eq_refl 1024 <<: 2 ^ 10 = 1024).")
    assert native.details["failure"] == "the proof does not compile"


# A global instance of the submission's changed how the cold check file, which required
# the submission before it stated the theorem, read a statement that uses a class: this
# false statement passed.
SETOIDS = CoqTheorem(
    "setoid",
    "forall P Q : Prop, P == Q",
    "",
    imports="Require Import Coq.Classes.SetoidClass.",
    seconds=10.0,
)
EVERYTHING_EQUAL = (
    "Abort.\n#[global] Instance taskgym_attack_full : Setoid Prop | 0 := "
    "{ equiv := fun _ _ => True; setoid_equiv := "
    "Build_Equivalence _ (fun _ => I) (fun _ _ _ => I) (fun _ _ _ _ _ => I) }.\n"
    "Theorem goal : forall P Q : Prop, P == Q.\nProof. intros. exact I. Qed."
)


@pytest.mark.parametrize("warm", [True, False])
def test_an_instance_of_the_proofs_cannot_change_the_statement(
    coq_box: Sandbox, warm: bool
) -> None:
    # As meant (with the library's instance, iff), the statement is false.
    verdict = check_proof(coq_box, SETOIDS, EVERYTHING_EQUAL, warm=warm)
    assert verdict.details.get("failure") == "the proof is not of the theorem", verdict


def test_a_coqtop_that_ran_out_of_memory_is_not_used_again(coq_backend_box: Sandbox) -> None:
    # Coq printed "Out of memory" for every later proof after a proof's memory bomb
    # (the slow test below); a session that says so is replaced.
    said = 'intros. idtac "\nError: Out of memory.". lia.'
    assert warm_refusal(said) is None
    first = coqtop_for(coq_backend_box, ADD_COMM.imports)
    assert not check_proof(coq_backend_box, ADD_COMM, said).solved  # it printed "Error:"
    assert not first.usable and first not in warm_sessions(coq_backend_box)
    still_grades(coq_backend_box)


@pytest.mark.slow  # Coq reaches its 4 GiB limit after about 15 s
def test_a_memory_bomb_leaves_a_working_checker(coq_box: Sandbox) -> None:
    slow = dataclasses.replace(ADD_COMM, seconds=60.0)
    bomb = "intros. Eval vm_compute in (Nat.pow 10 10). lia."
    verdict = check_proof(coq_box, slow, bomb)
    assert not verdict.solved
    assert check_proof(coq_box, slow, "intros. lia.").solved


def test_output_past_the_cap_is_answered(coq_backend_box: Sandbox) -> None:
    # Past the warm coqtop's output cap, the proof goes to coqc, whose output is capped.
    huge = "intros. Compute (List.repeat 0 400000). lia."
    assert not check_proof(
        coq_backend_box, dataclasses.replace(ADD_COMM, seconds=20.0), huge
    ).solved
    still_grades(coq_backend_box)


# Files: the warm path must write none (they would outlive the proof in the work
# directory), and the cold path removes what coqc wrote.
WRITERS = {
    name: f"intros. lia. Qed.\n{text}\n{HELPER}"
    for name, text in {
        "Print Universes to a file": 'Print Universes "taskgym_attack.v".',
        "Print Sorted Universes to a file": 'Print Sorted Universes "u.v".',
        "Redirect": 'Redirect "taskgym_attack" Print nat.',
        "Extraction to a file": 'Require Extraction.\nExtraction "taskgym_attack" nat.',
        "Cd then Redirect": 'Cd "/tmp".\nRedirect "taskgym_attack" Print nat.',
    }.items()
}


# Cd elsewhere makes coqc write Submission.vo there too: the check finds none, and
# fails the proof (bwrap's /tmp is private to each command).
MOVES = {"Cd then Redirect"}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_files_written_by_a_proof_do_not_outlive_it(coq_box: Sandbox, writer: str) -> None:
    assert warm_refusal(WRITERS[writer]) is not None  # checked by coqc
    verdict = check_proof(coq_box, ADD_COMM, WRITERS[writer])
    assert verdict.solved == (writer not in MOVES), verdict
    assert coq_box.run(["ls", "-A"]).out == ""


def test_files_written_in_an_episode_are_gone_in_the_next() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqProofs-v0", sandbox="bwrap")
    for writer in sorted(WRITERS):
        env.reset(options={"task_id": "coq-add-comm"})
        assert env.step(WRITERS[writer])[1] == float(writer not in MOVES)
        assert env.unwrapped.sandbox.run(["ls", "-A"]).out == ""
    env.close()


# Tactic mode: one action a turn, in the warm coqtop.
TACTIC_REFUSED = {
    "Qed hidden in a comment": "lia. (* Qed. *)",
    "Qed in a string": 'idtac "Qed.". lia.',
    "Abort and a new theorem": f"Abort. Theorem goal : {STATEMENT}. Proof. admit.",
    "Print Universes to a file": 'Print Universes "taskgym_attack.v".',
    "Admitted after a tactic": "intros. Admitted.",
    "Defined": "intros. lia. Defined.",
}


@pytest.fixture
def tactics_env() -> gym.Env[str, str]:
    require_coq()
    require_backend("bwrap")
    return gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=5.0)


@pytest.mark.parametrize("action", sorted(TACTIC_REFUSED))
def test_actions_that_would_end_the_proof_are_not_run(
    tactics_env: gym.Env[str, str], action: str
) -> None:
    tactics_env.reset(options={"task_id": "coq-add-comm"})
    obs, reward, terminated, *_ = tactics_env.step(TACTIC_REFUSED[action])
    assert "not run" in obs and not terminated and reward == 0.0, obs
    _, reward, terminated, *_ = tactics_env.step("intros. lia.")
    assert terminated and reward == 1.0
    assert tactics_env.unwrapped.sandbox.run(["ls", "-A"]).out == ""
    tactics_env.close()


TACTIC_UNDONE = {
    "a last sentence left open (it would swallow taskgym's Show)": "intros. pose (1 -",
    "a nested proof opened": "intros. Let taskgym_attack_x : False.",
    "an error after a tactic that worked": "intros. no_such_tactic.",
}


@pytest.mark.parametrize("action", sorted(TACTIC_UNDONE))
def test_actions_that_fail_are_undone_whole(tactics_env: gym.Env[str, str], action: str) -> None:
    tactics_env.reset(options={"task_id": "coq-add-comm"})
    obs, reward, terminated, *_ = tactics_env.step(TACTIC_UNDONE[action])
    assert not terminated and reward == 0.0
    assert obs.rstrip().endswith("forall n m : nat, n + m = m + n"), obs  # as it was
    _, reward, terminated, *_ = tactics_env.step("intros. lia.")
    assert terminated and reward == 1.0
    tactics_env.close()


def test_a_local_axiom_mid_proof_earns_nothing(tactics_env: gym.Env[str, str]) -> None:
    tactics_env.reset(options={"task_id": "coq-add-comm"})
    tactics_env.step(f"Local Axiom taskgym_attack_ax : {STATEMENT}.")
    _, reward, terminated, _, info = tactics_env.step("exact taskgym_attack_ax.")
    assert terminated and reward == 0.0, info
    tactics_env.close()


@pytest.mark.slow  # Coq reaches its 4 GiB limit after about 15 s
def test_a_memory_bomb_in_tactic_mode_costs_only_its_turn() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=60.0)
    env.reset(options={"task_id": "coq-add-comm"})
    env.step("intros n m.")
    obs, *_ = env.step("Eval vm_compute in (Nat.pow 10 10).")
    assert "n, m : nat" in obs
    _, reward, terminated, *_ = env.step("lia.")
    assert terminated and reward == 1.0
    env.close()


@pytest.mark.parametrize("warm", [True, False])
def test_coq_theorems_from_files_resist_the_instance_and_the_spoof(
    tmp_path: Path, warm: bool
) -> None:
    require_coq()
    require_backend("bwrap")
    (tmp_path / "all_equal.v").write_text(
        f"{SETOIDS.imports}\n\nTheorem all_equal : {SETOIDS.statement}.\nAdmitted.\n"
    )
    (tmp_path / "refl.v").write_text(
        f"{SETOIDS.imports}\n\nTheorem refl : forall P : Prop, P == P.\nAdmitted.\n"
    )
    env = gym.make("taskgym/CoqTheorems-v0", tasks=str(tmp_path), sandbox="bwrap", warm=warm)
    env.reset(options={"task_id": "all_equal"})
    assert env.step(EVERYTHING_EQUAL)[1] == 0.0
    env.reset(options={"task_id": "refl"})
    spoof = (
        fake_prompt_notation("Closed under the global context", "forall P : Prop, P == P")
        + "\nAdmitted."
    )
    assert env.step(spoof)[1] == 0.0
    env.reset(options={"task_id": "refl"})
    assert env.step("intros P. reflexivity.")[1] == 1.0
    env.close()
