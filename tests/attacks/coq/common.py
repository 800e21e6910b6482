"""Shared pieces of the Coq attack tests: the theorem most attacks aim at, and the texts
the attacks are built of."""

from __future__ import annotations

import dataclasses

import pytest

from taskgym.envs.math.proofs import BUNDLED_THEOREMS, CoqTheorem, check_proof, load_theorems
from taskgym.sandboxes import Sandbox

# The warm checker's logic is the same on both; the local runs repeat it in the slow run.
COQ_BACKENDS = ("bwrap", pytest.param("local", marks=pytest.mark.slow))
THEOREMS = {t.id: t for t in load_theorems(BUNDLED_THEOREMS)}
ADD_COMM = dataclasses.replace(THEOREMS["coq-add-comm"], seconds=10.0)
STATEMENT = ADD_COMM.statement
AND_COMM = THEOREMS["coq-and-comm"]
HELPER = "Lemma taskgym_attack_helper : True. Proof. exact I. Qed."
"""A last sentence that ends the agent's text cleanly (no Qed is added after it)."""


def fake_prompt_notation(printed: str, term: str, name: str = "Coq", proofs: str = "") -> str:
    """A notation that prints ``term`` as a coqtop prompt followed by ``printed``."""
    tokens = [f"<prompt>{name}", "<", "99", f"|{proofs}|", "0", "<", f"</prompt>{printed}"]
    words = " ".join(f"'{token}'" for token in " ".join(tokens).split())
    return f'Notation "{words}" := ({term}).'


FAKE_CLOSED_FALSE = fake_prompt_notation("Closed under the global context", "False")
"""``False`` printed as a prompt and ``Print Assumptions``'s clean answer: the type of
an axiom of ``False`` in ``Print Assumptions``' list then reads as the clean answer."""


def still_grades(box: Sandbox) -> None:
    """The sandbox's checker (warm coqtop or coqc) goes on to pass a real proof."""
    assert check_proof(box, AND_COMM, AND_COMM.proof).solved


__all__ = [
    "ADD_COMM",
    "AND_COMM",
    "FAKE_CLOSED_FALSE",
    "HELPER",
    "STATEMENT",
    "CoqTheorem",
    "fake_prompt_notation",
    "still_grades",
]
