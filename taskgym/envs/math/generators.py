"""Procedurally generated problems with a final answer: each problem comes from a seed,
and its reference answer is computed (with exact fractions), never typed.

Kinds: linear equations, gcd and lcm, modular powers, binomial coefficients, the nth
term of an arithmetic sequence, sums of divisors, derivatives of polynomials at a point,
and definite integrals of polynomials. ``difficulty`` scales the numbers and degrees.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from taskgym.core import Problem, Turn, Verdict
from taskgym.core import Task as _Task
from taskgym.envs.math.answers import answers_match, find_answer
from taskgym.envs.math.arithmetic import format_exact
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.sandboxes import Sandbox

__all__ = ["KINDS", "GeneratedMathTask"]

_SCALE = {"easy": 1, "medium": 2, "hard": 3}
_INSTRUCTIONS = "Give the final answer exactly (a fraction if need be) as \\boxed{ANSWER}."


def _poly(rng: random.Random, degree: int, size: int) -> list[int]:
    coefficients = [rng.randint(-size, size) for _ in range(degree)]
    return [*coefficients, rng.choice([c for c in range(-size, size + 1) if c])]


def _show_poly(coefficients: Sequence[int]) -> str:
    terms = []
    for power in range(len(coefficients) - 1, -1, -1):
        c = coefficients[power]
        if c == 0:
            continue
        body = {0: f"{abs(c)}", 1: f"{abs(c)}x"}.get(power, f"{abs(c)}x^{power}")
        if abs(c) == 1 and power > 0:
            body = body[1:]
        terms.append(("-" if c < 0 else "+") + " " + body)
    text = " ".join(terms)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def linear(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    size = 10**scale
    a = rng.choice([n for n in range(-size, size + 1) if n])
    b, c = rng.randint(-size, size), rng.randint(-size, size)
    return f"Solve for x: {a}x + {b} = {c}.".replace("+ -", "- "), Fraction(c - b, a)


def gcd_lcm(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    base = rng.randint(2, 6 * scale)
    a, b = base * rng.randint(2, 30 * scale), base * rng.randint(2, 30 * scale)
    if rng.random() < 0.5:
        return f"What is the greatest common divisor of {a} and {b}?", Fraction(math.gcd(a, b))
    return f"What is the least common multiple of {a} and {b}?", Fraction(math.lcm(a, b))


def modular_power(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    a, e, m = rng.randint(2, 20 * scale), rng.randint(5, 10**scale * 20), rng.randint(7, 97)
    return f"What is {a}^{e} mod {m}?", Fraction(pow(a, e, m))


def binomial(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    n = rng.randint(5, 12 * scale)
    k = rng.randint(1, n - 1)
    question = f"In how many ways can {k} of {n} different books be chosen (order ignored)?"
    return question, Fraction(math.comb(n, k))


def sequence_term(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    first, step, n = rng.randint(-20, 20), rng.randint(-9, 9) or 3, rng.randint(10, 50 * scale)
    a, b, c = first, first + step, first + 2 * step
    return f"An arithmetic sequence starts {a}, {b}, {c}. What is its term number {n}?", Fraction(
        first + (n - 1) * step
    )


def divisor_sum(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    n = rng.randint(12, 200 * scale)
    total = sum(d for d in range(1, n + 1) if n % d == 0)
    return f"What is the sum of all positive divisors of {n}?", Fraction(total)


def derivative_at(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    coefficients = _poly(rng, scale + 1, 5 * scale)
    x = rng.randint(-3, 3)
    terms = (p * c * Fraction(x) ** (p - 1) for p, c in enumerate(coefficients) if p)
    value = sum(terms, Fraction(0))
    return f"Let f(x) = {_show_poly(coefficients)}. What is f'({x})?", value


def integral(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    coefficients = _poly(rng, scale, 4 * scale)
    lo, hi = sorted(rng.sample(range(-3, 4), 2))

    def antiderivative(x: int) -> Fraction:
        return sum(
            (Fraction(c, p + 1) * Fraction(x) ** (p + 1) for p, c in enumerate(coefficients)),
            Fraction(0),
        )

    question = f"What is the integral of {_show_poly(coefficients)} dx from x = {lo} to x = {hi}?"
    return question, antiderivative(hi) - antiderivative(lo)


KINDS: dict[str, Callable[[random.Random, int], tuple[str, Fraction]]] = {
    "linear": linear,
    "gcd_lcm": gcd_lcm,
    "modular_power": modular_power,
    "binomial": binomial,
    "sequence_term": sequence_term,
    "divisor_sum": divisor_sum,
    "derivative": derivative_at,
    "integral": integral,
}


@dataclass(frozen=True)
class GeneratedMathTask(_Task):
    """Problems made from seeds, with computed answers.

    Args:
        difficulty: easy, medium or hard (bigger numbers, higher degrees).
        kinds: the kinds to draw from (default: all of :data:`KINDS`).
    """

    difficulty: str = "medium"
    kinds: tuple[str, ...] | list[str] | None = None
    family: ClassVar[str] = "math"

    def __post_init__(self) -> None:
        if self.difficulty not in _SCALE:
            raise ConfigError(f"difficulty is one of {sorted(_SCALE)}, got {self.difficulty!r}")
        unknown = sorted(set(self.kinds or ()) - set(KINDS))
        if unknown or (self.kinds is not None and not self.kinds):
            raise ConfigError(f"kinds are some of {sorted(KINDS)}, got {self.kinds!r}")

    def _kinds(self) -> list[str]:
        return list(self.kinds) if self.kinds else list(KINDS)

    def problem(self, seed: int) -> Problem:
        kinds = self._kinds()
        return self.get(f"gen-{self.difficulty}-{kinds[seed % len(kinds)]}-{seed}")

    def get(self, task_id: str) -> Problem:
        parts = task_id.split("-")
        if len(parts) != 4 or parts[0] != "gen" or parts[1] not in _SCALE or parts[2] not in KINDS:
            raise UnknownTaskIdError(f"not a generated problem id: {task_id!r}")
        try:
            seed = int(parts[3])
        except ValueError:
            raise UnknownTaskIdError(f"not a generated problem id: {task_id!r}") from None
        question, answer = KINDS[parts[2]](random.Random(seed), _SCALE[parts[1]])
        return Problem(
            id=task_id,
            prompt=f"{question}\n\n{_INSTRUCTIONS}",
            solution=(f"\\boxed{{{format_exact(answer)}}}",),
            data={"answer": format_exact(answer)},
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        found = find_answer(transcript[-1].action)
        if found is None:
            return Verdict.unparsed("no final answer (\\boxed{}, <answer>, ####, 'the answer is')")
        solved = answers_match(found.text, str(problem.data["answer"]))
        return Verdict(
            True, int(solved), 1, details={"form": found.form, "answer": found.text[:200]}
        )
