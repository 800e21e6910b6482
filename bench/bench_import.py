"""Start-up cost: ``python -c "import taskgym"`` against ``import gymnasium`` (which
taskgym needs) and an empty interpreter, each in a fresh process.

    python bench/bench_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    codes = {
        "python -c pass": "pass",
        "import gymnasium (baseline)": "import gymnasium",
        "import taskgym": "import taskgym",
    }
    samples: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(args.runs):
        for name, code in codes.items():
            samples[name].append(seconds(code))
    medians = {name: statistics.median(v) for name, v in samples.items()}
    base = medians["import gymnasium (baseline)"]
    empty = medians["python -c pass"]
    print(f"{'process':<32} {'ms':>8} {'x baseline':>11} {'ms over empty':>14}")
    for name, value in medians.items():
        print(
            f"{name:<32} {value * 1e3:>8.1f} {value / base:>11.2f} {(value - empty) * 1e3:>14.1f}"
        )


if __name__ == "__main__":
    main()
