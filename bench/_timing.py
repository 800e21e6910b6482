"""Shared timing helpers for the benchmarks: medians over interleaved rounds, so a noisy
neighbour slows baseline and candidate alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_seconds(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(
    candidates: dict[str, Callable[[], object]], calls: int | dict[str, int], rounds: int
) -> dict[str, float]:
    """Median seconds per call of each candidate, measured in alternating rounds
    (``calls`` per round, or a count for each candidate)."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            count = calls[name] if isinstance(calls, dict) else calls
            samples[name].append(per_call_seconds(fn, count))
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(results: dict[str, float], baseline: str, unit: str = "ms") -> None:
    scale = {"ms": 1e3, "us": 1e6}[unit]
    base = results[baseline]
    print(f"{'candidate':<44} {unit + '/call':>10} {'x baseline':>11}")
    for name, seconds in results.items():
        print(f"{name:<44} {seconds * scale:>10.3f} {seconds / base:>11.2f}")
