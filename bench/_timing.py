"""Shared timing helpers for the benchmarks: medians over interleaved rounds, so a noisy
neighbour slows baseline and candidate alike."""

from __future__ import annotations

import statistics
import subprocess
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


class HostBash:
    """The floor of a shell step: bash on the host over pipes, one line in, read up to a
    fixed marker (no escaping, no exit status, no time-out)."""

    def __init__(self, cwd: str) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )

    def run(self, command: str) -> bytes:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(f"{command}; echo __end__\n".encode())
        self.proc.stdin.flush()
        out = b""
        while not out.endswith(b"__end__\n"):
            out += self.proc.stdout.read1(65536)
        return out

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
