"""Math-verify comparison: answer checking's accuracy and speed against math-verify's.

    pip install 'math-verify[antlr4_13_2]'
    python -m bench.math_verify_comparison [--rounds 3] [--show-misses]

Hugging Face's math-verify and taskgym check one labelled set in one run. The set
(bench/math_pairs.py) is built from taskgym's generators (numbers, fractions,
sets of roots, pairs, polynomials; each computed answer written another equal way, and
off by one) and hand-written hard cases (LaTeX, units, separators, percentages,
intervals, unions, tuples, words). Both checkers read the same model text:

- math-verify: ``verify(parse("$" + reference + "$"), parse(text))``, its documented use;
- taskgym: ``answers_match(find_answer(text).text, reference, checker)`` with a fresh
  :class:`SymbolicChecker` a round (no result cached from an earlier round).

Each round checks every pair once with each; the table shows accuracy (verdicts equal to
the labels), by category, and the median checks per second. Goal: accuracy at
least math-verify's, speed at least 2x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from bench.math_pairs import Pair, build_pairs
from bench.ratios import interleaved_rounds
from taskgym.envs.math.answers import answers_match, find_answer
from taskgym.envs.math.symbolic import SymbolicChecker

Checker = Callable[[Pair], bool]


def taskgym_checker(symbolic: SymbolicChecker) -> Checker:
    def check(pair: Pair) -> bool:
        found = find_answer(pair.answer)
        return found is not None and answers_match(found.text, pair.reference, symbolic)

    return check


def math_verify_checker() -> Checker:
    from math_verify import parse, verify

    def check(pair: Pair) -> bool:
        try:
            return bool(verify(parse(f"${pair.reference}$"), parse(pair.answer)))
        except Exception:  # its own errors count as "not equal", as in its docs
            return False

    return check


def run(checker: Checker, pairs: list[Pair]) -> tuple[list[bool], float]:
    start = time.perf_counter()
    verdicts = [checker(pair) for pair in pairs]
    return verdicts, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    try:
        mv = math_verify_checker()
    except ImportError:
        print("needs math-verify: pip install 'math-verify[antlr4_13_2]'", file=sys.stderr)
        return 2
    pairs = build_pairs()
    verdicts: dict[str, list[bool]] = {}

    def math_verify() -> float:
        verdicts["math-verify"], took = run(mv, pairs)
        return took

    def ours() -> float:
        with SymbolicChecker() as symbolic:  # a fresh one a round: nothing cached
            symbolic.equal("1", "1")  # start the worker before the clock does
            verdicts["taskgym"], took = run(taskgym_checker(symbolic), pairs)
        return took

    seconds = interleaved_rounds(args.rounds, {"math-verify": math_verify, "taskgym": ours})

    categories = sorted({p.category for p in pairs})
    print(
        f"{len(pairs)} pairs ({sum(p.equivalent for p in pairs)} equivalent), "
        f"median of {args.rounds} rounds"
    )
    print(f"{'checker':<12} {'accuracy':>9} {'checks/s':>9} {'x math-verify':>14}")
    base = statistics.median(seconds["math-verify"])
    for name in ("math-verify", "taskgym"):
        right = sum(v == p.equivalent for v, p in zip(verdicts[name], pairs, strict=True))
        median = statistics.median(seconds[name])
        print(
            f"{name:<12} {right / len(pairs):>9.1%} {len(pairs) / median:>9.0f} "
            f"{base / median:>14.2f}"
        )
    print(f"\n{'category':<26} {'pairs':>5} {'math-verify':>12} {'taskgym':>8}")
    for category in categories:
        index = [i for i, p in enumerate(pairs) if p.category == category]
        row = [
            sum(verdicts[n][i] == pairs[i].equivalent for i in index) / len(index)
            for n in ("math-verify", "taskgym")
        ]
        print(f"{category:<26} {len(index):>5} {row[0]:>12.1%} {row[1]:>8.1%}")
    if args.show_misses:
        for name in ("math-verify", "taskgym"):
            print(f"\n{name} got wrong:")
            for v, p in zip(verdicts[name], pairs, strict=True):
                if v != p.equivalent:
                    print(f"  [{p.category}] {p.answer!r} vs {p.reference!r}: said {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
