"""Proof mode with Lean 4: the verdict comes from ``#print axioms`` of a check the
submission never sees. Tests that need Lean skip where no toolchain is on PATH (none can
be installed on this project's machines); the judging of Lean's output is tested
everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym import ConfigError
from taskgym.envs.math.lean import check_lean_proof, judge_axioms, lean_proof_text
from taskgym.envs.math.proofs import load_theorems
from taskgym.sandboxes import make_sandbox
from tests.conftest import require_lean

THEOREMS = {
    t.id: t
    for t in load_theorems(
        Path(__file__).with_name("data") / "lean_theorems.jsonl", default_imports=""
    )
}


def message(data: str, line: int = 4, severity: str = "information") -> str:
    return json.dumps({"severity": severity, "pos": {"line": line, "column": 0}, "data": data})


CLOSED = "'chk' does not depend on any axioms"
ASSUMES = "the proof rests on assumptions"
NOT_IT = "the proof is not of the theorem"


@pytest.mark.parametrize(
    ("output", "solved", "failure"),
    [
        (message(CLOSED), True, None),
        (message("'chk' depends on axioms: [propext, Quot.sound]"), True, None),
        (message("'chk' depends on axioms: [sorryAx]"), False, ASSUMES),
        (message("'chk' depends on axioms: [propext, cheat]"), False, ASSUMES),
        (message("'other' does not depend on any axioms"), False, NOT_IT),
        (message(CLOSED, line=2), False, NOT_IT),  # printed elsewhere: not the check's
        (message("type mismatch", severity="error"), False, NOT_IT),
        ("\n".join([message(CLOSED)] * 2), False, NOT_IT),
        (CLOSED, False, "the check printed something else"),
        ("", False, NOT_IT),
    ],
)
def test_only_lean_s_one_message_at_the_check_passes(
    output: str, solved: bool, failure: str | None
) -> None:
    verdict = judge_axioms(output, "chk", 4)
    assert verdict.solved is solved
    assert verdict.details.get("failure") == failure


def test_the_tactics_are_read_from_a_block_or_the_whole_answer() -> None:
    assert lean_proof_text("```lean\nby\n  intro n\n  rfl\n```") == "intro n\n  rfl"
    assert lean_proof_text("omega") == "omega"


def test_the_env_needs_a_file_of_theorems() -> None:
    with pytest.raises(ConfigError, match="tasks=PATH"):
        gym.make("taskgym/LeanTheorems-v0")


CHEATS = {
    "sorry": "sorry",
    "an axiom of its own": "exact cheat",
    "a proof that does not work": "rfl",
    "empty": "",
}


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheating_earns_nothing_with_a_real_lean(cheat: str) -> None:
    require_lean()
    theorem = THEOREMS["lean-add-comm"]
    if cheat == "an axiom of its own":
        theorem = theorem.__class__(
            **{**theorem.__dict__, "imports": "axiom cheat : ∀ a b : Nat, a + b = b + a"}
        )
    with make_sandbox("local") as box:
        assert not check_lean_proof(box, theorem, CHEATS[cheat]).solved


def test_the_reference_proofs_pass_with_a_real_lean() -> None:
    require_lean()
    with make_sandbox("local") as box:
        for theorem in THEOREMS.values():
            assert check_lean_proof(box, theorem, theorem.proof).solved, theorem.id
