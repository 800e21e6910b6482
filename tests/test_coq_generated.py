"""Generated Coq theorems: true by construction, each proved by its generated proof."""

from __future__ import annotations

import dataclasses
import re

import gymnasium as gym
import pytest

from taskgym import ConfigError, UnknownTaskIdError
from taskgym.envs.math.coq_generators import COQ_KINDS, generated_theorem
from taskgym.envs.math.proofs import check_proof
from taskgym.sandboxes import Sandbox

LEVELS = ("easy", "medium", "hard")


@pytest.fixture(scope="module")
def box(coq_box: Sandbox) -> Sandbox:
    return coq_box


def test_an_id_gives_the_same_theorem_every_time() -> None:
    first = generated_theorem("coqgen-hard-ring-12")
    assert first == generated_theorem("coqgen-hard-ring-12")
    assert first.statement != generated_theorem("coqgen-hard-ring-13").statement
    assert first.difficulty == "hard" and first.proof == "intros. ring."
    for bad in ["coqgen-hard-ring", "coqgen-extreme-ring-1", "coqgen-hard-ring-x", "gen-1"]:
        with pytest.raises(UnknownTaskIdError, match="coqgen-DIFFICULTY-KIND-SEED"):
            generated_theorem(bad)
    with pytest.raises(ConfigError, match="kinds are some of"):
        gym.make("taskgym/CoqGen-v0", kinds=["induction"])


@pytest.mark.parametrize("level", LEVELS)
def test_ring_identities_hold_at_integer_points(level: str) -> None:
    # Without Coq: both sides agree at a few points, so the identity is true.
    for seed in range(30):
        statement = generated_theorem(f"coqgen-{level}-ring-{seed}").statement
        names, equation = re.fullmatch(r"forall ([a-z ]+) : \w+, (.*)", statement).groups()
        left, right = equation.split(" = ")
        for point in [(2, 3, 5), (7, -1, 4), (0, 11, -6)]:
            scope = dict(zip(names.split(), point, strict=False))
            assert eval(left, {}, scope) == eval(right, {}, scope), statement


def _sample(seeds: range) -> list[str]:
    return [f"coqgen-{level}-{kind}-{s}" for level in LEVELS for kind in COQ_KINDS for s in seeds]


def _proved_and_not_cheated(box: Sandbox, task_id: str) -> None:
    theorem = generated_theorem(task_id)
    assert check_proof(box, theorem, theorem.proof).solved, (task_id, theorem.statement)
    assert not check_proof(box, theorem, "admit.").solved, task_id


@pytest.mark.parametrize("task_id", _sample(range(1)))
def test_the_generated_proof_is_accepted_and_admit_is_not(box: Sandbox, task_id: str) -> None:
    _proved_and_not_cheated(box, task_id)


@pytest.mark.slow
def test_many_generated_theorems_are_proved_by_their_proofs(box: Sandbox) -> None:
    for task_id in _sample(range(1, 16)):
        _proved_and_not_cheated(box, task_id)


def test_a_false_variant_is_not_proved(box: Sandbox) -> None:
    for kind, broken in [("ring", " + 1"), ("lia", " - 100")]:
        theorem = generated_theorem(f"coqgen-medium-{kind}-3")
        false = dataclasses.replace(theorem, statement=theorem.statement + broken)
        assert not check_proof(box, false, theorem.proof).solved, false.statement
