"""A wrong proof is answered about as fast as a right one: language models name lemmas
that do not exist all the time, and each must not cost the whole time limit.

After a qualified name failed inside a proof (``apply Nat.add_com.``, ``apply
Foo.bar.``), Coq words a later unknown name's error "The variable ... was not found"
instead of "The reference ...": the warm coqtop's reader waited for the latter, so each
such proof cost the full 30 s time-out.
"""

from __future__ import annotations

import dataclasses
import time

import gymnasium as gym
import pytest

from taskgym.envs.math.proofs import check_proof
from taskgym.sandboxes import Sandbox
from tests.attacks.coq.common import ADD_COMM, still_grades
from tests.conftest import require_backend, require_coq

SLOW = dataclasses.replace(ADD_COMM, seconds=30.0)
WRONG = {
    "an unknown lemma of a loaded module": "intros. apply Nat.add_com.",
    "a lemma of a module not loaded": "apply Foo.bar.",
    "an unknown unqualified lemma": "intros. apply add_com.",
    "a tactic that fails": "intros. reflexivity.",
    "the unknown lemma after Qed": "intros. lia. Qed.\nCheck Nat.add_com.",
}
BOUND = 8.0
"""Seconds: far below the 30 s limit (and the 10 s a roll-back may wait), far above a
check's time even on a busy machine."""


@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_a_wrong_proof_is_answered_at_once_by_the_warm_checker(
    coq_backend_box: Sandbox, wrong: str
) -> None:
    check_proof(coq_backend_box, SLOW, "intros. lia.")  # the coqtop is started
    start = time.monotonic()
    verdict = check_proof(coq_backend_box, SLOW, WRONG[wrong])
    assert time.monotonic() - start < BOUND
    assert verdict.details["failure"] == "the proof does not compile", verdict
    assert verdict.details["output"] != "timed out"
    still_grades(coq_backend_box)


@pytest.mark.parametrize("wrong", ["a lemma of a module not loaded"])
def test_a_wrong_proof_is_answered_at_once_by_fresh_coqc(coq_box: Sandbox, wrong: str) -> None:
    start = time.monotonic()
    verdict = check_proof(coq_box, SLOW, WRONG[wrong], warm=False)
    assert time.monotonic() - start < BOUND
    assert verdict.details["failure"] == "the proof does not compile", verdict


def test_an_unknown_lemma_is_answered_at_once_in_tactic_mode() -> None:
    require_coq()
    require_backend("bwrap")
    env = gym.make("taskgym/CoqTactics-v0", sandbox="bwrap", seconds=30.0)
    env.reset(options={"task_id": "coq-add-comm"})
    env.step("intros n m.")
    for action in ["apply Nat.add_com.", "apply Foo.bar.", "rewrite Nat.add_com."]:
        start = time.monotonic()
        obs, *_ = env.step(action)
        assert time.monotonic() - start < BOUND
        assert "was not found" in obs and "n, m : nat" in obs, obs
    _, reward, terminated, *_ = env.step("apply Nat.add_comm.")
    assert terminated and reward == 1.0
    env.close()
