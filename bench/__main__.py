"""List the benchmarks, or run several in one go.

    python -m bench --list
    python -m bench [NAME ...] [OPTIONS]

With no NAME, the scale suite (import_time_and_size, step_overhead, batch_grading,
model_agents_at_scale); OPTIONS go to each benchmark named (those of the suite all take
``--quick``, a smoke test and not a measurement, and all but import_time_and_size
``--executors inline,process,ray``). Benchmarks run in the order listed here, whatever
the order named: import_time_and_size first, before any worker or Ray process of the
others is still winding down beside it.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCALE_SUITE = ("import_time_and_size", "step_overhead", "batch_grading", "model_agents_at_scale")
BENCHMARKS = (
    *SCALE_SUITE,
    "episode_overhead",
    "episode_pool_hot_path",
    "sandbox_start",
    "local_sandbox_calls",
    "shell_step",
    "shell_env",
    "program_grading",
    "humaneval_grading",
    "coq_check",
    "math_verify_comparison",
    "reasoning_gym_scoring",
    "serving",
)
"""Every benchmark, a module of this package, in the order they run."""


def _module(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{name}")


def _summary(name: str) -> str:
    """The first line of a benchmark's docstring, read without importing it."""
    source = (Path(__file__).parent / f"{name}.py").read_text(encoding="utf-8")
    return (ast.get_docstring(ast.parse(source)) or "").splitlines()[0]


def _list() -> None:
    width = max(len(name) for name in BENCHMARKS)
    for title, names in (
        ("the scale suite (run when no name is given):", SCALE_SUITE),
        ("the others:", BENCHMARKS[len(SCALE_SUITE) :]),
    ):
        print(title)
        for name in names:
            print(f"  {name:<{width}}  {_summary(name)}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--list"], ["-h"], ["--help"]):
        if args == ["--list"]:
            _list()
        else:
            print(__doc__)
        return 0
    count = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    names, options = args[:count], args[count:]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(
            f"python -m bench: unknown benchmark(s) {unknown}; see python -m bench --list",
            file=sys.stderr,
        )
        return 2
    status = 0
    for name in [name for name in BENCHMARKS if name in (names or SCALE_SUITE)]:
        print(f"\n# python -m bench.{name} {' '.join(options)}".rstrip(), flush=True)
        status = _module(name).main(options) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
