"""Sandbox start: make a sandbox, run its first command, close it, per backend.

    python -m bench.sandbox_start [--calls 10] [--rounds 3]

Against spawning ``/bin/true`` bare (``posix_spawn`` + ``waitpid``), medians over
interleaved rounds.

Backends that cannot run here are skipped with the reason.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bench.backends import usable_backends
from bench.ratios import interleaved, print_table
from taskgym.sandboxes import make_sandbox


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    def posix_spawn_true() -> None:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
        os.waitpid(pid, 0)

    def cycle(backend: str) -> None:
        with make_sandbox(backend) as box:
            box.run(["true"])

    candidates = {"posix_spawn /bin/true (baseline)": posix_spawn_true}
    for backend in usable_backends():
        candidates[f"{backend}: make + run(true) + close"] = lambda b=backend: cycle(b)
    results = interleaved(candidates, calls=args.calls, rounds=args.rounds)
    print_table(results, "posix_spawn /bin/true (baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
