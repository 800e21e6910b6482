"""Coq proof checking: proofs checked per minute, warm coqtop against a fresh coqc a proof.

    python -m bench.coq_check [--rounds 3]

The proofs are the bundled theorems' reference proofs and, for each, a cheat
(``admit.``, which compiles and then fails ``Print Assumptions``), so half pass. Two
sets of wrong proofs are timed apart (a wrong proof must be answered about as fast as a
right one): each theorem with an unknown qualified lemma (``intros. apply
Nat.taskgym_no_such_lemma.``, as language models write), and with a tactic that fails
(``intros. exact I.``).

- baseline: a fresh ``coqc`` a proof, as a user would write the check: one file of the
  imports, the theorem, the proof and ``Print Assumptions goal.``, compiled in the same
  bwrap sandbox, passing when the output ends in "Closed under the global context".
- taskgym cold: ``check_proof(..., warm=False)``: two coqc runs (the submission, then a
  check file named afterwards), the path for proofs the warm gate turns away.
- taskgym warm: ``check_proof(...)``: the sandbox's warm coqtop, rolled back between
  proofs.
- CoqProofs-v0 episodes: reset + step through the env (warm, kept between episodes).

All three checkers must reach the same verdicts. Goal: warm at least 5x the
baseline. Needs coqc and bubblewrap.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial

import gymnasium as gym

import taskgym
from bench.ratios import interleaved_rounds
from taskgym.envs.math.coqtop import CLOSED
from taskgym.envs.math.proofs import BUNDLED_THEOREMS, CoqTheorem, check_proof, load_theorems
from taskgym.sandboxes import Limits, Sandbox, make_sandbox, unavailable_reason


def fresh_coqc(box: Sandbox, theorem: CoqTheorem, proof: str) -> bool:
    text = (
        f"{theorem.imports}\nTheorem goal : {theorem.statement}.\nProof.\n{proof}\nQed.\n"
        "Print Assumptions goal.\n"
    )
    box.write_file("Check.v", text)
    limits = Limits(wall_seconds=30, cpu_seconds=30, memory_bytes=4 << 30)
    done = box.run(["coqc", "-q", "Check.v"], limits=limits)
    return done.ok and done.out.strip().endswith(CLOSED)


UNKNOWN_LEMMA = "intros. apply Nat.taskgym_no_such_lemma."
FAILING_TACTIC = "intros. exact I."
Item = tuple[CoqTheorem, str, bool]


class _Disagreement(Exception):
    """A checker's verdicts are not the expected ones."""


def _check_all(name: str, checker: Callable[[CoqTheorem, str], bool], items: list[Item]) -> float:
    """Seconds ``checker`` takes on ``items``; _Disagreement on a wrong verdict."""
    start = time.perf_counter()
    verdicts = [checker(t, p) for t, p, _ in items]
    seconds = time.perf_counter() - start
    wrong = [t.id for (t, _, w), v in zip(items, verdicts, strict=True) if v != w]
    if wrong:
        raise _Disagreement(f"{name} disagrees with the expected verdicts on {wrong}")
    return seconds


def measure(
    checkers: dict[str, Callable[[CoqTheorem, str], bool]], items: list[Item], rounds: int
) -> dict[str, list[float]] | None:
    """Seconds a round of ``items`` takes each checker, ``rounds`` interleaved rounds;
    None (said) when a checker's verdicts are not the expected ones."""
    try:
        return interleaved_rounds(
            rounds,
            {name: partial(_check_all, name, checker, items) for name, checker in checkers.items()},
        )
    except _Disagreement as e:
        print(e)
        return None


def table(samples: dict[str, list[float]], count: int) -> None:
    base = statistics.median(samples["baseline: fresh coqc a proof"])
    print(f"{'checker':<34} {'ms/proof':>9} {'proofs/min':>11} {'x baseline':>11}")
    for name, values in samples.items():
        seconds = statistics.median(values)
        print(
            f"{name:<34} {seconds / count * 1e3:>9.1f} "
            f"{count / seconds * 60:>11.0f} {base / seconds:>11.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if shutil.which("coqc") is None or unavailable_reason("bwrap") is not None:
        print("needs coqc (apt-get install coq) and bubblewrap", file=sys.stderr)
        return 2
    theorems = load_theorems(BUNDLED_THEOREMS)
    items = [(t, t.proof, True) for t in theorems] + [(t, "admit.", False) for t in theorems]
    wrong_sets = {
        "unknown qualified lemma": [(t, UNKNOWN_LEMMA, False) for t in theorems],
        "a tactic that fails": [(t, FAILING_TACTIC, False) for t in theorems],
    }

    with make_sandbox("bwrap") as box:
        checkers: dict[str, Callable[[CoqTheorem, str], bool]] = {
            "baseline: fresh coqc a proof": lambda t, p: fresh_coqc(box, t, p),
            "taskgym cold: two coqc a proof": lambda t, p: (
                check_proof(box, t, p, warm=False).solved
            ),
            "taskgym warm coqtop": lambda t, p: check_proof(box, t, p).solved,
        }
        check_proof(box, theorems[0], theorems[0].proof)  # start the warm coqtop once
        samples = measure(checkers, items, args.rounds)
        wrong_samples = {
            label: measure(checkers, wrong, args.rounds) for label, wrong in wrong_sets.items()
        }
        if samples is None or any(v is None for v in wrong_samples.values()):
            return 1

    env = gym.make("taskgym/CoqProofs-v0", sandbox="bwrap")
    env_samples = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for t, proof, _ in items:
            env.reset(options={"task_id": t.id})
            env.step(proof)
        env_samples.append(time.perf_counter() - start)
    env.close()
    samples["CoqProofs-v0 episodes (warm)"] = env_samples

    print(
        f"{len(items)} proofs ({len(theorems)} pass, {len(theorems)} cheat), bwrap, "
        f"median of {args.rounds} rounds, taskgym {taskgym.__version__}"
    )
    table(samples, len(items))
    for label, wrong in wrong_sets.items():
        print(f"\nwrong proofs, {label}: {len(wrong)} proofs ({wrong[0][1]!r})")
        found = wrong_samples[label]
        assert found is not None
        table(found, len(wrong))
    return 0


if __name__ == "__main__":
    sys.exit(main())
