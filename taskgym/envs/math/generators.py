"""Procedurally generated problems with a final answer: each problem comes from a seed,
and its reference answer is computed (with exact fractions), never typed.

Numeric kinds (:data:`KINDS`, answers compared exactly as numbers): linear equations,
fractions, gcd and lcm, modular powers, primes, binomial coefficients, the nth term of
an arithmetic sequence, sums of divisors, derivatives of polynomials at a point, and
definite integrals of polynomials.

Symbolic kinds (:data:`SYMBOLIC_KINDS`, answers compared by sympy, the ``sympy``
extra): the solutions of quadratic equations and the roots of cubics (sets), systems of
two linear equations (pairs), and polynomials to expand or to factor, whose answers
must also be in that form (an unexpanded product is not an expansion, nor the
question's polynomial its factoring). ``difficulty`` scales the numbers and degrees.
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
from taskgym.envs.math.symbolic import shared_checker, sympy_missing
from taskgym.errors import ConfigError, DependencyNotInstalledError, UnknownTaskIdError
from taskgym.sandboxes import Sandbox

__all__ = ["KINDS", "SYMBOLIC_KINDS", "GeneratedMathTask", "Made"]

_SCALE = {"easy": 1, "medium": 2, "hard": 3}
_INSTRUCTIONS = "Give the final answer exactly (a fraction if need be) as \\boxed{ANSWER}."


@dataclass(frozen=True)
class Made:
    """A generated problem: its question, its reference answer and the form the answer
    must take (None: any form of the same value)."""

    question: str
    answer: str
    form: str | None = None
    instructions: str = _INSTRUCTIONS


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


def fraction_sum(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    terms = [(rng.randint(1, 9 * scale), rng.randint(2, 6 + 4 * scale)) for _ in range(scale + 1)]
    signs = [1] + [rng.choice([1, -1]) for _ in terms[1:]]
    shown = " ".join(
        f"{'' if i == 0 else '+ ' if sign > 0 else '- '}{top}/{bottom}"
        for i, ((top, bottom), sign) in enumerate(zip(terms, signs, strict=True))
    )
    value = sum((Fraction(t, b) * s for (t, b), s in zip(terms, signs, strict=True)), Fraction(0))
    return f"What is {shown}, as a fraction in lowest terms?", value


def _primes_below(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytearray(len(sieve[n * n :: n]))
    return [n for n in range(limit) if sieve[n]]


def primes(rng: random.Random, scale: int) -> tuple[str, Fraction]:
    table = _primes_below(2000 * scale)
    question = rng.randrange(3)
    if question == 0:
        n = rng.randint(10, 100 * scale)
        return f"What is prime number {n} (2 is the first)?", Fraction(table[n - 1])
    if question == 1:
        limit = rng.randint(50, 600 * scale)
        count = sum(1 for p in table if p < limit)
        return f"How many prime numbers are less than {limit}?", Fraction(count)
    factors = [rng.choice(table[: 25 * scale]) for _ in range(scale + 1)]
    product = math.prod(factors)
    return f"What is the largest prime factor of {product}?", Fraction(max(factors))


KINDS: dict[str, Callable[[random.Random, int], tuple[str, Fraction]]] = {
    "linear": linear,
    "fractions": fraction_sum,
    "gcd_lcm": gcd_lcm,
    "modular_power": modular_power,
    "primes": primes,
    "binomial": binomial,
    "sequence_term": sequence_term,
    "divisor_sum": divisor_sum,
    "derivative": derivative_at,
    "integral": integral,
}


# -- symbolic kinds: sets, pairs and polynomials, compared by sympy ------------------------


def _show_number(value: Fraction) -> str:
    return format_exact(value)


def _show_set(values: Sequence[Fraction]) -> str:
    return "\\{" + ", ".join(_show_number(v) for v in sorted(set(values))) + "\\}"


def _linear_factor(rng: random.Random, scale: int) -> tuple[int, int]:
    """(a, b) for the factor a x + b, a > 0, b not 0."""
    a = rng.choice([1, 1, 1, 2, 3][: 2 + scale])
    return a, rng.choice([b for b in range(-4 * scale, 4 * scale + 1) if b])


def _show_factor(a: int, b: int) -> str:
    head = "x" if a == 1 else f"{a}x"
    return f"({head} {'+' if b > 0 else '-'} {abs(b)})"


def _expand(factors: Sequence[tuple[int, int]], lead: int = 1) -> list[int]:
    """Coefficients, constant first, of lead * prod(a x + b)."""
    coefficients = [lead]
    for a, b in factors:
        shifted = [0, *coefficients]
        scaled = [b * c for c in coefficients] + [0]
        coefficients = [a * s + t for s, t in zip(shifted, scaled, strict=True)]
    return coefficients


def quadratic(rng: random.Random, scale: int) -> Made:
    factors = [_linear_factor(rng, scale) for _ in range(2)]
    lead = rng.choice([1, 1, -1, 2][: 1 + scale])
    polynomial = _show_poly(_expand(factors, lead))
    roots = [Fraction(-b, a) for a, b in factors]
    return Made(
        f"Solve {polynomial} = 0 for real x.",
        _show_set(roots),
        instructions="Give the set of all solutions as \\boxed{\\{a, b\\}} (fractions exact).",
    )


def cubic_roots(rng: random.Random, scale: int) -> Made:
    factors = [(1, rng.choice([b for b in range(-3 * scale, 3 * scale + 1) if b])) for _ in "abc"]
    polynomial = _show_poly(_expand(factors))
    return Made(
        f"Find every real root of p(x) = {polynomial}.",
        _show_set([Fraction(-b, a) for a, b in factors]),
        instructions="Give the set of all roots as \\boxed{\\{a, b, c\\}} (each root once).",
    )


def linear_system(rng: random.Random, scale: int) -> Made:
    size = 3 * scale
    while True:
        a, b, c, d = (rng.choice([n for n in range(-size, size + 1) if n]) for _ in range(4))
        if a * d - b * c:
            break
    x, y = Fraction(rng.randint(-size, size)), Fraction(rng.randint(-size, size))
    if scale == 3:
        x /= rng.choice([2, 3])

    def equation(p: int, q: int) -> str:
        head = {1: "", -1: "-"}.get(p, str(p))
        tail = "" if abs(q) == 1 else str(abs(q))
        return f"{head}x {'+' if q > 0 else '-'} {tail}y = {_show_number(p * x + q * y)}"

    return Made(
        f"Solve the system {equation(a, b)} and {equation(c, d)}.",
        f"({_show_number(x)}, {_show_number(y)})",
        instructions="Give the solution as the pair \\boxed{(x, y)} (fractions exact).",
    )


def expansion(rng: random.Random, scale: int) -> Made:
    factors = [_linear_factor(rng, scale) for _ in range(1 + scale)]
    product = "".join(_show_factor(a, b) for a, b in factors)
    return Made(
        f"Expand {product}.",
        _show_poly(_expand(factors)),
        form="expanded",
        instructions="Give the expanded polynomial (a sum of terms, no brackets) as \\boxed{...}.",
    )


def factoring(rng: random.Random, scale: int) -> Made:
    factors = sorted(_linear_factor(rng, scale) for _ in range(1 + scale))
    return Made(
        f"Factor {_show_poly(_expand(factors))} completely over the rationals.",
        "".join(_show_factor(a, b) for a, b in factors),
        form="factored",
        instructions="Give it as a product of linear factors, such as \\boxed{(x - 1)(2x + 3)}.",
    )


SYMBOLIC_KINDS: dict[str, Callable[[random.Random, int], Made]] = {
    "quadratic": quadratic,
    "cubic_roots": cubic_roots,
    "linear_system": linear_system,
    "expand": expansion,
    "factor": factoring,
}


def make_problem(kind: str, seed: int, difficulty: str) -> Made:
    """The problem of ``kind`` for ``seed`` at ``difficulty`` (a pure function)."""
    rng, scale = random.Random(seed), _SCALE[difficulty]
    if kind in SYMBOLIC_KINDS:
        return SYMBOLIC_KINDS[kind](rng, scale)
    question, value = KINDS[kind](rng, scale)
    return Made(question, format_exact(value))


@dataclass(frozen=True)
class GeneratedMathTask(_Task):
    """Problems made from seeds, with computed answers.

    Args:
        difficulty: easy, medium or hard (bigger numbers, higher degrees).
        kinds: the kinds to draw from (default: every numeric kind, :data:`KINDS`; the
            symbolic ones, :data:`SYMBOLIC_KINDS`, need sympy).
    """

    difficulty: str = "medium"
    kinds: tuple[str, ...] | list[str] | None = None
    family: ClassVar[str] = "math"

    def __post_init__(self) -> None:
        if self.difficulty not in _SCALE:
            raise ConfigError(f"difficulty is one of {sorted(_SCALE)}, got {self.difficulty!r}")
        known = {**KINDS, **SYMBOLIC_KINDS}
        unknown = sorted(set(self.kinds or ()) - set(known))
        if unknown or (self.kinds is not None and not self.kinds):
            raise ConfigError(f"kinds are some of {sorted(known)}, got {self.kinds!r}")
        if set(self.kinds or ()) & set(SYMBOLIC_KINDS) and sympy_missing() is not None:
            raise DependencyNotInstalledError("sympy", "sympy")

    def _kinds(self) -> list[str]:
        return list(self.kinds) if self.kinds else list(KINDS)

    def problem(self, seed: int) -> Problem:
        kinds = self._kinds()
        return self.get(f"gen-{self.difficulty}-{kinds[seed % len(kinds)]}-{seed}")

    def get(self, task_id: str) -> Problem:
        parts = task_id.split("-")
        known = {**KINDS, **SYMBOLIC_KINDS}
        if len(parts) != 4 or parts[0] != "gen" or parts[1] not in _SCALE or parts[2] not in known:
            raise UnknownTaskIdError(f"not a generated problem id: {task_id!r}")
        if not parts[3].isdigit():
            raise UnknownTaskIdError(f"not a generated problem id: {task_id!r}")
        made = make_problem(parts[2], int(parts[3]), parts[1])
        return Problem(
            id=task_id,
            prompt=f"{made.question}\n\n{made.instructions}",
            solution=(f"\\boxed{{{made.answer}}}",),
            data={"answer": made.answer, "form": made.form},
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        found = find_answer(transcript[-1].action)
        if found is None:
            return Verdict.unparsed("no final answer (\\boxed{}, <answer>, ####, 'the answer is')")
        kind = problem.id.split("-")[2]
        symbolic = shared_checker() if kind in SYMBOLIC_KINDS else None
        if kind in SYMBOLIC_KINDS and symbolic is None:
            raise DependencyNotInstalledError("sympy", "sympy")
        form = problem.data.get("form")
        # The prompts ask for exact answers: no rounded decimal stands for a fraction.
        answer = str(problem.data["answer"])
        solved = answers_match(found.text, answer, symbolic, form=form, approximate=False)
        return Verdict(
            True, int(solved), 1, details={"form": found.form, "answer": found.text[:200]}
        )
