"""The scale benchmarks, runnable anywhere taskgym is installed:
``taskgym bench`` (or :func:`run_suite`) plays them and prints one table each, every
figure a ratio against a baseline measured in the same run (the machine is shared and
noisy; absolute times mean little).

=====  ==============================================================================
B1     step overhead of a no-op text env through each way of stepping it
B2     ``grade_many`` throughput on 2,000 mixed code completions, per executor
B6     episodes per second of a model-calling agent, per backend, against asyncio
B8     ``import taskgym`` time and installed size, without and with extras
=====  ==============================================================================

``quick`` runs each at a tenth of its size or less: a smoke test, not a measurement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from taskgym.benchmarks.report import Report, Row
from taskgym.errors import ConfigError

__all__ = ["BENCHMARKS", "Report", "Row", "run_suite"]

# In the order they run: B8 first, before any worker or Ray process of the others is
# still winding down beside it.
BENCHMARKS: dict[str, str] = {
    "B8": "import time and installed size",
    "B1": "step overhead of a no-op text env",
    "B2": "batch grading throughput",
    "B6": "model-calling agents at scale",
}


def _runner(key: str, quick: bool, executors: Sequence[str]) -> Callable[[], Report]:
    # Each benchmark module is imported only when it runs.
    if key == "B1":
        from taskgym.benchmarks import step_overhead  # noqa: PLC0415

        return lambda: step_overhead.run(quick, executors)
    if key == "B2":
        from taskgym.benchmarks import grading  # noqa: PLC0415

        return lambda: grading.run(quick, executors)
    if key == "B6":
        from taskgym.benchmarks import episode_pool  # noqa: PLC0415

        return lambda: episode_pool.run(quick, executors)
    from taskgym.benchmarks import startup  # noqa: PLC0415

    return lambda: startup.run(quick)


def run_suite(
    only: Sequence[str] | None = None,
    *,
    quick: bool = False,
    executors: Sequence[str] = ("inline", "process", "ray"),
) -> Iterator[Report]:
    """Run the benchmarks ``only`` names (default: all), yielding each report as it
    is done. ``executors`` limits the executors compared (ray needs the ray extra)."""
    keys = [key for key in BENCHMARKS if key in only] if only else list(BENCHMARKS)
    keys += [key for key in only or () if key not in BENCHMARKS]
    unknown = [key for key in keys if key not in BENCHMARKS]
    if unknown:
        raise ConfigError(f"unknown benchmark(s) {unknown}; choose from {sorted(BENCHMARKS)}")
    bad = [name for name in executors if name not in ("inline", "process", "ray")]
    if bad:
        raise ConfigError(f"unknown executor(s) {bad}; choose from inline, process, ray")
    for key in keys:
        yield _runner(key, quick, executors)()
