"""Start a sandbox, run its first command, close it: per backend, against spawning
``/bin/true`` bare (``posix_spawn`` + ``waitpid``), medians over interleaved rounds.

    python bench/bench_sandbox_start.py [--calls 10] [--rounds 3]

Backends that cannot run here are skipped with the reason.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _timing import interleaved, print_table

from taskgym.sandboxes import make_sandbox, unavailable_reason


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    def posix_spawn_true() -> None:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
        os.waitpid(pid, 0)

    def cycle(backend: str) -> None:
        with make_sandbox(backend) as box:
            box.run(["true"])

    candidates = {"posix_spawn /bin/true (baseline)": posix_spawn_true}
    for backend in ("local", "bwrap", "docker"):
        reason = unavailable_reason(backend)
        if reason is not None:
            print(f"# {backend} skipped: {reason}")
            continue
        candidates[f"{backend}: make + run(true) + close"] = lambda b=backend: cycle(b)
    results = interleaved(candidates, calls=args.calls, rounds=args.rounds)
    print_table(results, "posix_spawn /bin/true (baseline)")


if __name__ == "__main__":
    main()
