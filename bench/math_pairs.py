"""A labelled set of (model answer, reference, equivalent?) pairs for answer checkers,
built from taskgym's generators and hand-written hard cases (bench.math_verify_comparison
uses it; tests/test_math_answers.py checks taskgym against it).

Each pair is mathematical equivalence only: no form is asked for (an unexpanded product
equals its expansion here). Labels are decided by construction (a computed answer, a
variant of it that is equal or off by one), or by hand for the hard cases.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction

from taskgym.envs.math.generators import KINDS, SYMBOLIC_KINDS, make_problem


@dataclass(frozen=True)
class Pair:
    answer: str
    """What a model wrote: reasoning, then the final answer."""
    reference: str
    equivalent: bool
    category: str


def _say(final: str, rng: random.Random) -> str:
    lead = rng.choice(["Working it through, ", "So ", "Therefore ", ""])
    return rng.choice(
        [
            f"{lead}the answer is $\\boxed{{{final}}}$.",
            f"{lead}we get \\boxed{{{final}}}",
            f"{lead}the final answer is \\boxed{{{final}}}.",
        ]
    )


def _number_forms(value: Fraction) -> list[str]:
    """Ways of writing ``value`` exactly."""
    forms = []
    if value.denominator == 1:
        n = value.numerator
        forms += [str(n), f"{n}.0"]
        if abs(n) >= 1000:
            forms.append(f"{n:,}")
    else:
        p, q = value.numerator, value.denominator
        sign = "-" if p < 0 else ""
        forms += [f"{p}/{q}", f"{sign}\\frac{{{abs(p)}}}{{{q}}}", f"\\dfrac{{{p}}}{{{q}}}"]
        d = q
        for f in (2, 5):
            while d % f == 0:
                d //= f
        if d == 1:
            forms.append(str(p / q))
    return forms


def _numeric_pairs(rng: random.Random, seeds: int) -> list[Pair]:
    pairs = []
    for kind in KINDS:
        for difficulty in ("easy", "medium", "hard"):
            for seed in range(seeds):
                reference = make_problem(kind, seed, difficulty).answer
                value = Fraction(reference)
                same = rng.choice(_number_forms(value))
                pairs.append(Pair(_say(same, rng), reference, True, f"generated {kind}"))
                wrong = rng.choice(
                    [value + 1, value - 1, -value if value else value + 2, value * 2 or 1]
                )
                pairs.append(
                    Pair(
                        _say(rng.choice(_number_forms(wrong)), rng),
                        reference,
                        False,
                        f"generated {kind}",
                    )
                )
    return pairs


def _bump(text: str, rng: random.Random) -> str:
    """One number of ``text`` changed by one."""
    numbers = list(re.finditer(r"\d+", text))
    found = rng.choice(numbers)
    return text[: found.start()] + str(int(found[0]) + 1) + text[found.end() :]


def _reordered(reference: str, kind: str, rng: random.Random) -> str:
    """An equal answer written differently."""
    if kind in ("quadratic", "cubic_roots"):
        items = reference[2:-2].split(", ")
        rng.shuffle(items)
        return "\\{" + ", ".join(items) + "\\}"
    if kind == "linear_system":
        return reference.replace(" ", "")
    if kind == "factor":
        factors = re.findall(r"\([^()]*\)", reference)
        rng.shuffle(factors)
        return "".join(factors)
    terms = re.findall(r"[-+]? ?[^-+]+", reference.replace(" ", ""))
    rng.shuffle(terms)
    text = "".join(t if t[0] in "+-" else "+" + t for t in terms)
    return text.removeprefix("+")


def _symbolic_pairs(rng: random.Random, seeds: int) -> list[Pair]:
    pairs = []
    for kind in SYMBOLIC_KINDS:
        for difficulty in ("easy", "medium", "hard"):
            for seed in range(seeds):
                reference = make_problem(kind, seed, difficulty).answer
                same = _reordered(reference, kind, rng)
                pairs.append(Pair(_say(same, rng), reference, True, f"generated {kind}"))
                pairs.append(
                    Pair(_say(_bump(reference, rng), rng), reference, False, f"generated {kind}")
                )
    return pairs


# Hand-written: (final answer as a model writes it, reference, equivalent?).
HARD_CASES: list[tuple[str, str, bool]] = [
    ("\\frac{\\sqrt{8}}{2}", "\\sqrt{2}", True),
    ("3\\sqrt{2}", "\\sqrt{18}", True),
    ("2\\sqrt{3}", "\\sqrt{6}", False),
    ("\\sqrt[3]{27}", "3", True),
    ("\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", True),
    ("\\frac{\\pi}{2}", "\\pi/2", True),
    ("\\pi", "3.14", False),
    ("2\\pi", "\\pi+\\pi", True),
    ("e^{i\\pi}", "-1", True),
    ("\\infty", "\\infty", True),
    ("2x+2", "2(x+1)", True),
    ("x^2-1", "(x-1)(x+1)", True),
    ("x^2+1", "(x+1)^2", False),
    ("(x+1)^2", "x^2+2x+1", True),
    ("a+b", "b+a", True),
    ("2^{10}", "1024", True),
    ("10^3", "1000", True),
    ("1,234", "1234", True),
    ("1,234,567", "1234567", True),
    ("\\$1,234.50", "1234.5", True),
    ("12 eggs", "12", True),
    ("5\\text{ cm}", "5", True),
    ("\\text{5 dollars}", "5", True),
    ("25\\%", "0.25", True),
    ("0.5", "\\frac{1}{2}", True),
    ("\\dfrac34", "0.75", True),
    ("\\tfrac{3}{4}", "3/4", True),
    ("-\\frac{3}{4}", "\\frac{-3}{4}", True),
    ("\\frac{3}{4}", "\\frac{4}{3}", False),
    ("0.3", "\\frac{1}{3}", False),
    ("1/3", "0.3333333333", False),
    ("\\{1, 2\\}", "\\{2, 1\\}", True),
    ("\\{1, 2, 3\\}", "\\{1, 2\\}", False),
    ("(1, 2)", "(1, 2)", True),
    ("(1, 2)", "(2, 1)", False),
    ("(2, -3)", "(2,-3)", True),
    ("[1, 3)", "[1,3)", True),
    ("(1, 3]", "[1, 3)", False),
    ("[0, \\infty)", "[0,\\infty)", True),
    ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", True),
    ("(-\\infty, 2] \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", False),
    ("\\left( 3, 4 \\right)", "(3, 4)", True),
    ("3 \\cdot 4", "12", True),
    ("3 \\times 4", "12", True),
    ("7 \\div 2", "\\frac{7}{2}", True),
    ("\\frac{6}{8}", "\\frac{3}{4}", True),
    ("0.75", "\\frac{3}{5}", False),
    ("-0", "0", True),
    ("+5", "5", True),
    ("5.000", "5", True),
    ("1e3", "1000", True),
    ("\\sqrt{16}", "4", True),
    ("\\sqrt{16}", "-4", False),
    ("\\ln(e^2)", "2", True),
    ("\\log(1)", "0", True),
    ("\\sin(0)", "0", True),
    ("\\cos(\\pi)", "-1", True),
    ("x = 5", "5", True),
    ("y = 2x + 1", "2x+1", True),
    ("\\text{yes}", "yes", True),
    ("\\text{No}", "no", True),
    ("no", "yes", False),
    ("\\text{Tuesday}", "Tuesday", True),
    ("Monday", "Tuesday", False),
    ("\\frac{1}{0}", "1", False),
    ("\\frac{1}{", "1", False),
    ("42", "24", False),
    ("-7", "7", False),
    ("0.1+0.2", "0.3", True),
    ("\\frac{22}{7}", "\\pi", False),
    ("3.14159", "\\pi", False),
    ("x^{2}", "x^2", True),
    ("x^3", "x^2", False),
    ("2^{-1}", "\\frac12", True),
    ("\\sqrt{2}^2", "2", True),
    # Forms written after taskgym's checker was, to see what it misses.
    ("\\frac12", "0.5", True),
    ("\\sqrt2", "\\sqrt{2}", True),
    ("\\binom{5}{2}", "10", True),
    ("5!", "120", True),
    ("30^\\circ", "30", True),
    ("30^{\\circ}", "45", False),
    ("3+4i", "4i+3", True),
    ("3-4i", "3+4i", False),
    ("1.5\\times10^3", "1500", True),
    ("2.5 \\times 10^{-3}", "0.0025", True),
    ("10^{-2}", "0.01", True),
    ("\\text{(B)}", "B", True),
    ("B", "C", False),
    ("x \\in [1, 2]", "[1, 2]", True),
    ("\\lfloor 2.5 \\rfloor", "2", True),
    ("\\lceil 2.5 \\rceil", "2", False),
    ("\\frac{a}{b}", "a/b", True),
    ("\\frac{a+b}{2}", "\\frac{a}{2}+\\frac{b}{2}", True),
    ("\\mathbf{7}", "7", True),
    ("\\sqrt{x^2}", "x", False),
    ("\\$5", "5", True),
    ("100\\text{ m}^2", "100", True),
    ("\\dfrac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", True),
    # Near misses that graders compared with a tolerance or one way only accepted.
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False),
    ("10^{20}+1", "10^{20}", False),
    ("\\{2, 2.0000000001\\}", "\\{2, 3\\}", False),
    ("\\{2\\}", "\\{2, 3\\}", False),
    ("\\pi+10^{-60}", "\\pi", False),
    ("\\pm 3", "3", False),
    ("1.4142135624", "\\sqrt{2}", True),
    ("2x-y+1=0", "y=2x+1", True),
    ("x=1", "x^2=1", False),
]


def build_pairs(seed: int = 0, numeric_seeds: int = 8, symbolic_seeds: int = 12) -> list[Pair]:
    """The labelled set: about 480 generated numeric pairs, 360 symbolic ones and the
    hard cases; deterministic for a ``seed``."""
    rng = random.Random(seed)
    pairs = _numeric_pairs(rng, numeric_seeds) + _symbolic_pairs(rng, symbolic_seeds)
    for final, reference, equivalent in HARD_CASES:
        pairs.append(Pair(_say(final, rng), reference, equivalent, "hand-written"))
    return pairs
