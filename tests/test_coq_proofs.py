"""Proof mode with Coq: Coq's kernel decides, and each way of cheating earns nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym import ConfigError
from taskgym.envs.math.coqtop import coqtop_for, warm_refusal, warm_sessions
from taskgym.envs.math.proofs import (
    BUNDLED_THEOREMS,
    CoqTheorem,
    check_proof,
    load_theorem_files,
    load_theorems,
    proof_text,
)
from taskgym.sandboxes import Sandbox
from tests.conftest import require_backend, require_coq

COQ_FILES = Path(__file__).with_name("data") / "coq"


@pytest.fixture(scope="module")
def box(coq_box: Sandbox) -> Sandbox:
    return coq_box


THEOREMS = {t.id: t for t in load_theorems(BUNDLED_THEOREMS)}
ADD_COMM = dataclasses.replace(THEOREMS["coq-add-comm"], seconds=10.0)
STATEMENT = ADD_COMM.statement


def test_the_bundled_theorems_span_three_levels() -> None:
    levels = {t.difficulty for t in THEOREMS.values()}
    assert levels == {"easy", "medium", "hard"} and len(THEOREMS) >= 60


@pytest.mark.parametrize(
    ("answer", "proof"),
    [
        ("```coq\nProof.\nintros. lia.\nQed.\n```", "intros. lia.\nQed."),
        ("I would do:\n```\nintros. lia.\n```", "intros. lia."),
        ("intros. lia.", "intros. lia."),
    ],
)
def test_the_proof_is_read_from_a_block_or_the_whole_answer(answer: str, proof: str) -> None:
    assert proof_text(answer) == proof


def test_a_proof_is_accepted_with_or_without_its_qed(box: Sandbox) -> None:
    assert check_proof(box, ADD_COMM, "intros. lia. Qed.").solved
    assert check_proof(box, ADD_COMM, "intros. lia.").solved
    # Side effects of a real proof (a file written by Redirect) do not matter.
    side = (
        'intros. lia. Qed.\nRedirect "Check" Print goal.\nLemma extra : True. Proof. trivial. Qed.'
    )
    assert check_proof(box, ADD_COMM, side).solved


CHEATS = {
    "Admitted": "Admitted.",
    "admit then Qed": "intros. admit.\nQed.",
    "an axiom, then the theorem again": (
        f"Abort.\nAxiom cheat : forall P : Prop, P.\nTheorem goal : {STATEMENT}.\n"
        "Proof. apply cheat. Qed."
    ),
    "a Parameter": (
        f"Abort.\nParameter p : {STATEMENT}.\nTheorem goal : {STATEMENT}.\nProof. exact p. Qed."
    ),
    "a Hypothesis in a section": (
        f"Abort.\nSection S.\nHypothesis h : {STATEMENT}.\nTheorem goal : {STATEMENT}.\n"
        "Proof. exact h. Qed.\nEnd S."
    ),
    "the theorem restated": "Abort.\nTheorem goal : True.\nProof. trivial. Qed.",
    "guard checking turned off": (
        "Abort.\nUnset Guard Checking.\nFixpoint loop (n : nat) : False := loop n.\n"
        f"Set Guard Checking.\nTheorem goal : {STATEMENT}.\nProof. exfalso. exact (loop 0). Qed."
    ),
    "a printed success line": 'idtac "Closed under the global context". Admitted.',
    "a library the task does not import (classical logic)": (
        f"Abort.\nRequire Import Coq.Logic.Classical.\nTheorem goal : {STATEMENT}.\n"
        "Proof. intros. destruct (classic (n = n)); lia. Qed."
    ),
    "guard checking bypassed by an attribute": (
        "Abort.\n#[bypass_check(guard)] Fixpoint loop (n : nat) : False := loop n.\n"
        f"Theorem goal : {STATEMENT}.\nProof. exfalso. exact (loop 0). Qed."
    ),
    "positivity bypassed by an attribute": (
        "Abort.\n#[bypass_check(positivity)] Inductive bad : Type := mk : (bad -> False) -> bad."
        "\nDefinition f (b : bad) : False := match b with mk g => g b end.\n"
        f"Theorem goal : {STATEMENT}.\nProof. exfalso. exact (f (mk f)). Qed."
    ),
    "a Variable": (
        f"Abort.\nVariable h : {STATEMENT}.\nTheorem goal : {STATEMENT}.\nProof. exact h. Qed."
    ),
    "a Context": (
        f"Abort.\nContext (h : {STATEMENT}).\nTheorem goal : {STATEMENT}.\nProof. exact h. Qed."
    ),
    "a Local Axiom": (
        f"Abort.\nLocal Axiom h : {STATEMENT}.\nTheorem goal : {STATEMENT}.\nProof. exact h. Qed."
    ),
    "an Admitted helper lemma": (
        f"Abort.\nLemma helper : {STATEMENT}.\nAdmitted.\nTheorem goal : {STATEMENT}.\n"
        "Proof. exact helper. Qed."
    ),
    "a plugin of its own": (
        'Abort.\nDeclare ML Module "taskgym_evil_plugin".\n'
        f"Theorem goal : {STATEMENT}.\nProof. intros. lia. Qed."
    ),
    "a tactic that never ends": "intros. Eval vm_compute in (Nat.pow 2 100000). lia.",
    "an empty answer": "",
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing_in_the_warm_checker(box: Sandbox, cheat: str) -> None:
    theorem = dataclasses.replace(ADD_COMM, seconds=3.0)
    verdict = check_proof(box, theorem, CHEATS[cheat])
    assert not verdict.solved, verdict
    # The warm coqtop (or the coqc it passed the proof to) still grades the next one.
    and_comm = THEOREMS["coq-and-comm"]
    assert check_proof(box, and_comm, and_comm.proof).solved


@pytest.mark.slow  # two coqc runs each: .ci/run runs them
@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing_in_fresh_coqc_runs(box: Sandbox, cheat: str) -> None:
    theorem = dataclasses.replace(ADD_COMM, seconds=5.0)
    verdict = check_proof(box, theorem, CHEATS[cheat], warm=False)
    assert not verdict.solved, verdict


# Attacks on what a persistent coqtop adds: state kept between proofs, taskgym's own
# sentences after the agent's, and reading Coq's output.
def test_an_axiom_left_by_one_proof_is_gone_for_the_next(box: Sandbox) -> None:
    leaves = (
        "intros. lia. Qed.\nAxiom cheat : forall P : Prop, P.\n"
        "Lemma after : True. Proof. trivial. Qed."
    )
    assert warm_refusal(leaves) is None  # this goes through the warm coqtop
    assert check_proof(box, ADD_COMM, leaves).solved
    verdict = check_proof(box, THEOREMS["coq-rev-involutive"], "apply cheat.")
    assert not verdict.solved and verdict.details["failure"] == "the proof does not compile"
    # Asked directly, the warm coqtop has no such axiom (not only the fresh coqc, to
    # which a check that finds its state wrong falls back).
    session = coqtop_for(box, ADD_COMM.imports)
    asked = session.send("Check cheat.", seconds=10)
    assert asked is not None and "The reference cheat was not found" in asked[0].text
    assert session.back_to_base()


def test_a_warning_is_not_an_error_in_either_checker(box: Sandbox) -> None:
    # Coq warns that this notation cannot be used for printing; coqc goes on, so must
    # the warm coqtop, whose output puts the same "Toplevel input" header on warnings.
    warns = 'intros.\nLocal Notation "x ++++ y" := 0 (at level 50).\nlia.'
    assert check_proof(box, ADD_COMM, warns).solved
    assert check_proof(box, ADD_COMM, warns, warm=False).solved


def test_a_notation_that_changes_the_statement_earns_nothing(box: Sandbox) -> None:
    # Re-read after this notation, the statement says 0 = 0: the check compares with
    # the statement elaborated before the agent's text.
    redefined = (
        'Abort.\nNotation "x + y" := (0) (at level 50, left associativity).\n'
        f"Theorem goal : {STATEMENT}.\nProof. reflexivity. Qed."
    )
    for warm in (True, False):
        verdict = check_proof(box, ADD_COMM, redefined, warm=warm)
        assert not verdict.solved, (warm, verdict)


def test_printed_prompts_and_success_lines_earn_nothing(box: Sandbox) -> None:
    fake = (
        'idtac "<prompt>Coq < 3 || 0 < </prompt>Closed under the global context'
        '<prompt>Coq < 4 || 0 < </prompt>". Admitted.'
    )
    assert warm_refusal(fake) is None
    assert not check_proof(box, ADD_COMM, fake).solved


@pytest.mark.parametrize(
    "unclosed", ["intros. lia. (* the rest is a comment", 'intros. idtac "an open string']
)
def test_an_unclosed_comment_or_string_cannot_swallow_the_check(
    box: Sandbox, unclosed: str
) -> None:
    assert warm_refusal(unclosed) == "an unclosed comment or string"
    assert not check_proof(box, ADD_COMM, unclosed).solved
    assert check_proof(box, ADD_COMM, "intros. (* (* nested *) *) lia.").solved


def test_a_required_library_does_not_outlive_its_proof(box: Sandbox) -> None:
    requires = (
        "intros. lia. Qed.\nRequire Import Coq.Logic.Classical.\n"
        "Lemma lem : forall P : Prop, P \\/ ~ P. Proof. exact classic. Qed."
    )
    assert warm_refusal(requires) == "the command 'Require'"  # checked by fresh coqc
    assert check_proof(box, ADD_COMM, requires).solved
    uses = "intros. destruct (classic (n = m)); lia."
    assert not check_proof(box, ADD_COMM, uses).solved


def test_a_proof_that_times_out_leaves_a_working_checker(box: Sandbox) -> None:
    looping = dataclasses.replace(ADD_COMM, seconds=2.0)
    verdict = check_proof(box, looping, "intros. Eval vm_compute in (Nat.pow 2 100000). lia.")
    assert verdict.details == {"failure": "the proof does not compile", "output": "timed out"}
    assert check_proof(box, ADD_COMM, "intros. lia.").solved


@pytest.mark.parametrize(
    ("text", "tactic", "refusal"),
    [
        ("intros. lia.", False, None),
        ("intros. lia. Qed.", False, None),
        ("intros. lia. Qed.", True, "the command 'Qed'"),
        ("Unset Guard Checking.", False, "the command 'Unset'"),
        ('Redirect "x" Print goal.', False, "the command 'Redirect'"),
        ('Declare ML Module "evil".', False, "the command 'Declare'"),
        ("BackTo 1.", False, "the command 'BackTo'"),
        ('idtac "a ""quoted"" word".', False, None),
        ("(* *) *) lia.", False, None),
        ("idtac. " * 5000, False, "more than 32,000 characters"),
    ],
)
def test_the_warm_gate(text: str, tactic: bool, refusal: str | None) -> None:
    assert warm_refusal(text, tactic=tactic) == refusal


def test_an_episode_through_the_env() -> None:
    require_coq()
    env = gym.make("taskgym/CoqProofs-v0", difficulty="easy")
    obs, _ = env.reset(options={"task_id": "coq-add-comm"})
    assert "Theorem goal : forall n m : nat, n + m = m + n." in obs
    _, reward, *_, info = env.step("```coq\nintros. lia.\n```")
    assert reward == 1.0
    env.reset(options={"task_id": "coq-add-comm"})
    _, reward, *_, info = env.step("```coq\nAdmitted.\n```")
    assert reward == 0.0 and info["verdict"]["details"]["failure"] == (
        "the proof rests on assumptions"
    )
    env.close()


def test_the_env_keeps_one_warm_coqtop_between_episodes() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqProofs-v0", sandbox="bwrap")
    seen = []
    for task_id, proof in [("coq-add-comm", "intros. lia."), ("coq-and-comm", "tauto.")] * 2:
        env.reset(options={"task_id": task_id})
        assert env.step(proof)[1] == 1.0
        seen.extend(warm_sessions(env.unwrapped.sandbox))
    assert len(seen) == 4 and len(set(map(id, seen))) == 1
    assert seen[0].uses == 4  # one roll-back a proof, none again between episodes
    # A cold check (a Require) in between leaves nothing in the work directory.
    env.reset(options={"task_id": "coq-add-comm"})
    env.step("intros. lia. Qed.\nRequire Import Bool.\nLemma t : True. Proof. exact I. Qed.")
    assert env.unwrapped.sandbox.run(["ls", "-A"]).out == ""
    env.close()


@pytest.mark.slow  # validate --every-task plays them too
def test_every_bundled_reference_proof_is_accepted(box: Sandbox) -> None:
    for theorem in THEOREMS.values():
        assert check_proof(box, theorem, theorem.proof).solved, theorem.id


@pytest.mark.slow
def test_every_bundled_reference_proof_is_accepted_by_fresh_coqc(box: Sandbox) -> None:
    for theorem in THEOREMS.values():
        assert check_proof(box, theorem, theorem.proof, warm=False).solved, theorem.id


def test_theorems_from_v_files_ending_in_admitted(box: Sandbox) -> None:
    theorems = {t.id: t for t in load_theorem_files(COQ_FILES)}
    assert set(theorems) == {"plus_assoc", "two_pow"}
    assert theorems["two_pow"].statement == "forall n : nat,\n  0 < 2 ^ n"
    assert theorems["plus_assoc"].imports == "Require Import Arith Lia."
    for theorem in theorems.values():
        assert check_proof(box, theorem, theorem.proof).solved, theorem.id
        assert not check_proof(box, theorem, "Admitted.").solved


def test_bad_theorem_files_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "two.v").write_text("Theorem a : True.\nAdmitted.\nTheorem b : True.\nAdmitted.\n")
    with pytest.raises(ConfigError, match=r"expected one theorem ending in 'Admitted\.', found 2"):
        load_theorem_files(tmp_path)
    with pytest.raises(ConfigError, match=r"holds no \.v file"):
        load_theorem_files(tmp_path / "nothing-here")
    with pytest.raises(ConfigError, match="give tasks= alone"):
        gym.make("taskgym/CoqTheorems-v0", path=str(COQ_FILES), tasks=BUNDLED_THEOREMS)


def test_tasks_takes_v_files_and_path_is_its_deprecated_name() -> None:
    env = gym.make("taskgym/CoqTheorems-v0", tasks=str(COQ_FILES))
    assert env.unwrapped.task.task_ids() == ["plus_assoc", "two_pow"]
    with pytest.warns(DeprecationWarning, match="path= is now tasks="):
        old = gym.make("taskgym/CoqTheorems-v0", path=str(COQ_FILES))
    assert old.unwrapped.task.task_ids() == ["plus_assoc", "two_pow"]
    one = gym.make("taskgym/CoqTheorems-v0", tasks=str(COQ_FILES / "two_pow.v"))
    assert one.unwrapped.task.task_ids() == ["two_pow"]


def test_a_theorem_without_a_reference_proof_gives_the_oracle_nothing_to_play(
    tmp_path: Path,
) -> None:
    require_coq()  # the tactic env's reset starts coqtop
    (tmp_path / "bare.v").write_text("Theorem bare : forall n : nat, n + 0 = n.\nAdmitted.\n")
    env = gym.make("taskgym/CoqTheorems-v0", tasks=str(tmp_path))
    observation, _ = env.reset(options={"task_id": "bare"})
    assert env.unwrapped.problem.solution == ()  # never Admitted.
    # No imports: no empty lines where they would be.
    assert observation.startswith("Prove in Coq (Rocq):\n\nTheorem goal : forall n")
    tactics = gym.make("taskgym/CoqTactics-v0", tasks=str(tmp_path))
    observation, _ = tactics.reset(options={"task_id": "bare"})
    assert tactics.unwrapped.problem.solution == ()
    assert observation.startswith("Prove in Coq (Rocq), one tactic a turn:\n\nTheorem goal")
    env.close()
    tactics.close()


def test_validate_says_a_theorem_has_no_reference_proof(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from taskgym.cli import main

    require_coq()
    (tmp_path / "bare.v").write_text("Theorem bare : forall n : nat, n + 0 = n.\nAdmitted.\n")
    args = ["validate", "CoqTheorems-v0", "--set", f"tasks={tmp_path}", "--every-task"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL: bare" in out
    assert "taskgym/CoqTheorems-v0 bare: no reference solution: the oracle had nothing" in out


def test_a_theorem_record_needs_its_fields(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "statement": "True"}\n')
    with pytest.raises(ConfigError, match="'proof' is missing"):
        load_theorems(path)
    assert CoqTheorem("a", "True", "trivial.").seconds == 30.0
