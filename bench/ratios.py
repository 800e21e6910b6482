"""What every benchmark shares: interleaved rounds and the ratios taken from them, the
tables they print, and the command line of the scale suite's benchmarks.

Rounds are interleaved (each round runs the baseline and every candidate back to back)
so that a noisy neighbour on the shared machine slows both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from taskgym.cli.progress import Progress

EXECUTORS = ("inline", "process", "ray")


def per_call_seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved_rounds(
    rounds: int, measures: Mapping[str, Callable[[], float]]
) -> dict[str, list[float]]:
    """Each measure's samples (what it returns, such as seconds), ``rounds`` rounds in
    which every measure runs once, in order, back to back."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    # On a terminal, a line on stderr says how far the rounds are and how long is left.
    with Progress(rounds * len(measures), unit="measures") as progress:
        for _ in range(rounds):
            for name, measure in measures.items():
                samples[name].append(measure())
                progress.advance(name or "baseline")
    return samples


def median_ratio(tops: Sequence[float], bottoms: Sequence[float]) -> float:
    """The median of the rounds' ratios ``top / bottom``: each round's two sides ran
    under the same load, which a ratio of medians would mix across rounds."""
    return statistics.median(top / bottom for top, bottom in zip(tops, bottoms, strict=True))


def interleaved(
    candidates: Mapping[str, Callable[[], object]], calls: int | Mapping[str, int], rounds: int
) -> dict[str, float]:
    """Median seconds per call of each candidate, measured in interleaved rounds
    (``calls`` per round, or a count for each candidate)."""
    measures = {
        name: partial(per_call_seconds, fn, calls if isinstance(calls, int) else calls[name])
        for name, fn in candidates.items()
    }
    samples = interleaved_rounds(rounds, measures)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(results: dict[str, float], baseline: str, unit: str = "ms") -> None:
    scale = {"ms": 1e3, "us": 1e6}[unit]
    base = results[baseline]
    print(f"{'candidate':<44} {unit + '/call':>10} {'x baseline':>11}")
    for name, seconds in results.items():
        print(f"{name:<44} {seconds * scale:>10.3f} {seconds / base:>11.2f}")


@dataclass(frozen=True)
class Row:
    """One candidate: its measure (``value`` in the report's unit) and how it compares
    with the baseline (``ratio``: the report says which way is better)."""

    candidate: str
    value: float
    ratio: float
    note: str = ""


@dataclass
class Report:
    """One scale benchmark's table. ``ratio_means`` says what the ratio column is, for
    instance ``"x baseline time"``; ``goal`` is the benchmark's target, and ``goal_met``
    whether this run met it (None when it sets no target)."""

    key: str
    title: str
    unit: str
    ratio_means: str
    rows: list[Row] = field(default_factory=list)
    goal: str = ""
    goal_met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, candidate: str, value: float, ratio: float, note: str = "") -> None:
        self.rows.append(Row(candidate, value, ratio, note))

    def text(self) -> str:
        width = max([len(r.candidate) for r in self.rows] + [9])
        lines = [f"{self.key}  {self.title}"]
        lines.append(f"  {'candidate':<{width}}  {self.unit:>12}  {self.ratio_means:>16}")
        for row in self.rows:
            note = f"  {row.note}" if row.note else ""
            lines.append(
                f"  {row.candidate:<{width}}  {_number(row.value):>12}  {row.ratio:>16.2f}{note}"
            )
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.goal:
            verdict = {True: "met", False: "NOT met", None: "-"}[self.goal_met]
            lines.append(f"  goal: {self.goal}: {verdict}")
        return "\n".join(lines)


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def _executor_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    bad = [name for name in names if name not in EXECUTORS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown executor(s) {bad}; choose from {', '.join(EXECUTORS)}"
        )
    return names


def report_main(
    run: Callable[..., Report],
    description: str,
    argv: Sequence[str] | None,
    *,
    executors: bool = True,
) -> int:
    """The command line of a scale benchmark: ``--quick`` (a smoke test, not a
    measurement) and, when it compares them, ``--executors``; prints its report."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a small run: a smoke test, not a measurement"
    )
    parser.add_argument(
        "--executors",
        type=_executor_names,
        default=None,
        # Taken (and unused) by a benchmark that compares none, so that one command
        # line serves the whole suite (python -m bench --executors ...).
        help="executors to compare, comma-separated (default: inline,process, and ray "
        "when the ray extra is installed)"
        if executors
        else argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if not executors:
        print(run(args.quick).text(), flush=True)
        return 0
    chosen = args.executors
    if chosen is None:
        chosen = ["inline", "process"]
        if importlib.util.find_spec("ray") is not None:
            chosen.append("ray")
    print(f"executors {', '.join(chosen)}{' (quick)' if args.quick else ''}")
    print(run(args.quick, chosen).text(), flush=True)
    return 0
