"""Coq theorems made from seeds, each with a generated reference proof.

Kinds, true by construction:

- ``ring``: a product of polynomials equals its expansion (computed here), over ``nat``,
  or over ``Z`` with negative coefficients at ``hard``: ``intros. ring.``
- ``lia``: from linear bounds on integers, a positive combination of them with some
  slack: ``intros. lia.``
- ``tauto``: a substitution instance of an intuitionistically valid schema (so ``tauto``,
  complete for intuitionistic propositional logic, proves it), two joined at ``hard``:
  ``intros. tauto.``
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from taskgym.core import Execution, Problem, Task, Turn, Verdict
from taskgym.envs.math.proofs import (
    DEFAULT_IMPORTS,
    CoqTheorem,
    CoqTheoremsTask,
    check_proof,
    keep_coq_warm,
    proof_text,
    theorem_problem,
)
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.sandboxes import Sandbox

__all__ = ["COQ_KINDS", "CoqGeneratedTask", "generated_theorem"]

_SCALE = {"easy": 1, "medium": 2, "hard": 3}
_Z_IMPORTS = "Require Import ZArith Lia.\nOpen Scope Z_scope."
_VARIABLES = ("x", "y", "z")

Monomial = tuple[int, ...]  # the power of each variable
Polynomial = dict[Monomial, int]


def _multiply(p: Polynomial, q: Polynomial) -> Polynomial:
    product: defaultdict[Monomial, int] = defaultdict(int)
    for mp, cp in p.items():
        for mq, cq in q.items():
            product[tuple(a + b for a, b in zip(mp, mq, strict=True))] += cp * cq
    return {m: c for m, c in product.items() if c}


def _show_term(monomial: Monomial, coefficient: int, first: bool) -> str:
    factors = [v for v, power in zip(_VARIABLES, monomial, strict=False) for _ in range(power)]
    size = abs(coefficient)
    body = " * ".join(([str(size)] if size != 1 or not factors else []) + factors)
    if first:
        return body if coefficient > 0 else f"- {body}" if not factors else f"-{body}"
    return f"{'+' if coefficient > 0 else '-'} {body}"


def _show_polynomial(p: Polynomial, order: Sequence[Monomial]) -> str:
    text = " ".join(_show_term(m, p[m], i == 0) for i, m in enumerate(order))
    return text or "0"


def _factor(rng: random.Random, variables: int, negative: bool) -> Polynomial:
    """A linear factor such as ``(2 * x + y + 3)``: at least one variable."""
    low = -4 if negative else 1
    factor: Polynomial = {}
    for index in rng.sample(range(variables), rng.randint(1, variables)):
        monomial = tuple(int(i == index) for i in range(variables))
        factor[monomial] = rng.choice([c for c in range(low, 5) if c])
    if rng.random() < 0.6:
        factor[(0,) * variables] = rng.choice([c for c in range(low, 6) if c])
    return factor


def ring_identity(rng: random.Random, scale: int) -> CoqTheorem:
    variables = min(scale + 1, 3)
    negative = scale == 3
    factors = [_factor(rng, variables, negative) for _ in range(2 if scale < 3 else 3)]
    product: Polynomial = {(0,) * variables: 1}
    for factor in factors:
        product = _multiply(product, factor)
    left = " * ".join(f"({_show_polynomial(f, sorted(f, reverse=True))})" for f in factors)
    order = sorted(product, reverse=True)
    rng.shuffle(order)  # the expansion in no particular order: ring does not mind
    kind = "Z" if negative else "nat"
    names = " ".join(_VARIABLES[:variables])
    statement = f"forall {names} : {kind}, {left} = {_show_polynomial(product, order)}"
    return CoqTheorem(
        id="",
        statement=statement,
        proof="intros. ring.",
        imports=_Z_IMPORTS if negative else DEFAULT_IMPORTS,
    )


def _linear(coefficients: Sequence[int]) -> Polynomial:
    return {
        tuple(int(i == j) for j in range(len(coefficients))): c
        for i, c in enumerate(coefficients)
        if c
    }


def linear_fact(rng: random.Random, scale: int) -> CoqTheorem:
    variables = min(scale + 1, 3)
    bounds = []
    for _ in range(scale + 1):
        coefficients = [rng.randint(-5, 5) for _ in range(variables)]
        if not any(coefficients):
            coefficients[0] = 1
        bounds.append((_linear(coefficients), rng.randint(-20, 20)))
    weights = [rng.randint(1, 4) for _ in bounds]
    total: defaultdict[Monomial, int] = defaultdict(int)
    for (form, _), weight in zip(bounds, weights, strict=True):
        for monomial, c in form.items():
            total[monomial] += weight * c
    combined = {m: c for m, c in total.items() if c}
    limit = sum(w * b for (_, b), w in zip(bounds, weights, strict=True)) + rng.randint(0, 5)

    def show(form: Polynomial) -> str:
        return _show_polynomial(form, sorted(form, reverse=True))

    hypotheses = " -> ".join(f"{show(form)} <= {bound}" for form, bound in bounds)
    names = " ".join(_VARIABLES[:variables])
    statement = f"forall {names} : Z, {hypotheses} -> {show(combined)} <= {limit}"
    return CoqTheorem(id="", statement=statement, proof="intros. lia.", imports=_Z_IMPORTS)


# Intuitionistically valid schemas over A, B, C.
_SCHEMAS = (
    "(A -> B) -> (B -> C) -> A -> C",
    "A /\\ B -> B /\\ A",
    "A \\/ B -> B \\/ A",
    "(A /\\ B -> C) -> A -> B -> C",
    "(A -> B -> C) -> A /\\ B -> C",
    "(A -> B) -> ~ B -> ~ A",
    "A -> ~ ~ A",
    "~ (A \\/ B) -> ~ A /\\ ~ B",
    "~ A /\\ ~ B -> ~ (A \\/ B)",
    "(A \\/ B) /\\ C -> A /\\ C \\/ B /\\ C",
    "A /\\ (B \\/ C) -> A /\\ B \\/ A /\\ C",
    "(A -> C) -> (B -> C) -> A \\/ B -> C",
    "~ ~ ~ A -> ~ A",
    "(A -> B) /\\ (A -> C) -> A -> B /\\ C",
    "~ ~ (A \\/ ~ A)",
    "(A -> B) -> (A -> B -> C) -> A -> C",
    "(A \\/ B -> C) -> (A -> C) /\\ (B -> C)",
    "~ ~ (~ ~ A -> A)",
)
_ATOMS = ("P", "Q", "R", "S")


def _formula(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.35:
        return rng.choice(_ATOMS)
    shape = rng.randrange(4)
    if shape == 0:
        return f"~ {_formula(rng, depth - 1)}"
    operator = ("/\\", "\\/", "->")[shape - 1]
    return f"{_formula(rng, depth - 1)} {operator} {_formula(rng, depth - 1)}"


def _instance(rng: random.Random, depth: int) -> str:
    schema = rng.choice(_SCHEMAS)
    for meta in "ABC":  # metavariables are single capitals not used by atoms
        formula = _formula(rng, depth)
        schema = schema.replace(meta, f"({formula})" if " " in formula else formula)
    return schema


def tautology(rng: random.Random, scale: int) -> CoqTheorem:
    depth = scale - 1
    body = f"({_instance(rng, depth)})"
    if scale == 3:
        body = f"{body} /\\ ({_instance(rng, depth)})"
    statement = f"forall {' '.join(_ATOMS)} : Prop, {body}"
    return CoqTheorem(id="", statement=statement, proof="intros. tauto.", imports="")


COQ_KINDS: dict[str, Callable[[random.Random, int], CoqTheorem]] = {
    "ring": ring_identity,
    "lia": linear_fact,
    "tauto": tautology,
}


def generated_theorem(task_id: str) -> CoqTheorem:
    """The theorem of an id ``coqgen-DIFFICULTY-KIND-SEED``."""
    parts = task_id.split("-")
    if (
        len(parts) != 4
        or parts[0] != "coqgen"
        or parts[1] not in _SCALE
        or parts[2] not in COQ_KINDS
        or not parts[3].isdigit()
    ):
        raise UnknownTaskIdError(
            f"not a generated theorem id: {task_id!r} (coqgen-DIFFICULTY-KIND-SEED)"
        )
    made = COQ_KINDS[parts[2]](random.Random(int(parts[3])), _SCALE[parts[1]])
    return CoqTheorem(
        id=task_id,
        statement=made.statement,
        proof=made.proof,
        imports=made.imports,
        difficulty=parts[1],
    )


@dataclass(frozen=True)
class CoqGeneratedTask(Task):
    """Generated Coq theorems (ring identities, linear facts, tautologies), each checked
    by Coq's kernel as in :class:`~taskgym.envs.math.proofs.CoqTheoremsTask`.

    Args:
        difficulty: easy, medium or hard (more variables, factors, hypotheses, depth).
        kinds: the kinds to draw from (default: all of :data:`COQ_KINDS`).
        warm: check in the sandbox's warm coqtop (False: fresh coqc runs).
    """

    difficulty: str = "medium"
    kinds: tuple[str, ...] | list[str] | None = None
    warm: bool = True
    family: ClassVar[str] = "math"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, sandbox_backends=("bwrap", "local")
    )

    def __post_init__(self) -> None:
        if self.difficulty not in _SCALE:
            raise ConfigError(f"difficulty is one of {sorted(_SCALE)}, got {self.difficulty!r}")
        unknown = sorted(set(self.kinds or ()) - set(COQ_KINDS))
        if unknown or (self.kinds is not None and not self.kinds):
            raise ConfigError(f"kinds are some of {sorted(COQ_KINDS)}, got {self.kinds!r}")

    def problem(self, seed: int) -> Problem:
        kinds = list(self.kinds) if self.kinds else list(COQ_KINDS)
        return self.get(f"coqgen-{self.difficulty}-{kinds[seed % len(kinds)]}-{seed}")

    def get(self, task_id: str) -> Problem:
        return theorem_problem(generated_theorem(task_id))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        theorem = generated_theorem(problem.id)
        return check_proof(sandbox, theorem, proof_text(transcript[-1].action), warm=self.warm)

    def keep_warm(self, sandbox: Sandbox) -> bool:
        return keep_coq_warm(sandbox)

    # As for the bundled theorems: a tactic proves many; the near miss drops a sentence.
    may_share_answer = CoqTheoremsTask.may_share_answer
    near_misses = CoqTheoremsTask.near_misses
