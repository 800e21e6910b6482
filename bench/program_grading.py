"""Program grading: small Python programs graded per minute, per backend and way.

    python -m bench.program_grading [--programs 1000]

Programs (correct, wrong, looping, memory-hungry) graded by two worker threads, in a
fresh interpreter per program or a zygote, per backend, against a fresh
``python3 -I -S`` per program on the host with the same memory and CPU limits but no
isolation (the baseline), measured in the same run.

Each configuration must reach the same verdicts (how many printed the right answer):
a fast grader that judges differently is not faster, it is wrong. On a mix with
looping programs the script also prints the bound that holds for any grader with the
same wall limit and workers: the loops alone take ``loops * 0.2 s / workers``.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from bench.backends import usable_backends
from taskgym.sandboxes import Limits, Sandbox, make_sandbox
from taskgym.sandboxes.zygote import Zygote

LIMITS = Limits(wall_seconds=0.2, cpu_seconds=2, memory_bytes=128 * 1024**2, output_bytes=4096)
PROGRAMS = {
    "correct": "n = int(input())\nprint(sum(range(n)))\n",
    "wrong": "print(42)\n",
    "looping": "while True:\n    pass\n",
    "memory-hungry": "x = bytearray(400 * 1024**2)\nprint(len(x))\n",
}
STDIN, EXPECTED = "1000\n", "499500"
WORKERS = 2
# The interpreter the sandboxes find on their PATH; on the host, "python3" may be a
# version manager's shim (a shell script), which would make the baseline look slow.
PYTHON = "/usr/bin/python3"

Grader = Callable[[str], str]  # code -> what it printed


MIXES = {
    # correct, wrong, looping, memory-hungry (in percent)
    "mix with loops (80/10/5/5)": [80, 10, 5, 5],
    "mix without loops (85/10/0/5)": [85, 10, 0, 5],
}


def mix(count: int, weights: list[int]) -> list[str]:
    rng = random.Random(0)
    kinds = rng.choices(list(PROGRAMS), weights=weights, k=count)
    return [PROGRAMS[k] for k in kinds]


def same_limits() -> None:
    memory, cpu = int(LIMITS.memory_bytes), int(LIMITS.cpu_seconds)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def fresh_interpreter() -> tuple[Grader, Callable[[], None]]:
    def grade(code: str) -> str:
        try:
            done = subprocess.run(
                [PYTHON, "-I", "-S", "-c", code], input=STDIN.encode(),
                capture_output=True, timeout=LIMITS.wall_seconds, check=False,
                preexec_fn=same_limits,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return ""
        return done.stdout.decode(errors="replace")

    return grade, lambda: None


def sandbox_run(backend: str) -> tuple[Grader, Callable[[], None]]:
    box = make_sandbox(backend)

    def grade(code: str) -> str:
        return box.run(["python3", "-I", "-S", "-c", code], stdin=STDIN, limits=LIMITS).out

    return grade, box.close


def zygote(backend: str) -> tuple[Grader, Callable[[], None]]:
    box: Sandbox = make_sandbox(backend)
    z = Zygote(box)

    def grade(code: str) -> str:
        return z.run(code, stdin=STDIN, limits=LIMITS).execution.out

    def close() -> None:
        z.close()
        box.close()

    return grade, close


def measure(
    make: Callable[[], tuple[Grader, Callable[[], None]]], programs: list[str]
) -> tuple[float, int]:
    """Programs a minute with WORKERS threads (each with its own grader), and passes."""
    graders = [make() for _ in range(WORKERS)]
    passed, lock, queue = [0], threading.Lock(), list(programs)

    def work(grade: Grader) -> None:
        while True:
            with lock:
                if not queue:
                    return
                code = queue.pop()
            ok = grade(code).strip() == EXPECTED
            with lock:
                passed[0] += ok

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(g,)) for g, _ in graders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for _, close in graders:
        close()
    return len(programs) / elapsed * 60, passed[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    args = parser.parse_args(argv)
    configs: dict[str, Callable[[], tuple[Grader, Callable[[], None]]]] = {
        "fresh python3 -I -S per program, host (baseline)": fresh_interpreter,
    }
    for backend in usable_backends():
        configs[f"{backend}: fresh python3 per program"] = lambda b=backend: sandbox_run(b)
        configs[f"{backend}: zygote"] = lambda b=backend: zygote(b)
    for title, weights in MIXES.items():
        programs = mix(args.programs, weights)
        expected_passes = sum(p == PROGRAMS["correct"] for p in programs)
        print(f"# {title}: {args.programs} programs, {expected_passes} correct, {WORKERS} workers")
        print(f"{'grader':<48} {'programs/min':>13} {'x baseline':>11} {'passed':>7}")
        base = None
        for name, make in configs.items():
            per_minute, passed = measure(make, programs)
            base = base or per_minute
            flag = "" if passed == expected_passes else "  <- WRONG VERDICTS"
            print(f"{name:<48} {per_minute:>13.0f} {per_minute / base:>11.2f} {passed:>7}{flag}")
        loops = sum(p == PROGRAMS["looping"] for p in programs)
        if loops:
            # Every grader that honours the same wall limit with the same workers spends
            # at least this long on the looping programs alone.
            floor = loops * LIMITS.wall_seconds / WORKERS
            base_seconds = args.programs / base * 60
            print(
                f"bound for any grader: the {loops} looping programs take {floor:.1f} s of the "
                f"{WORKERS} workers' time, so at most {base_seconds / floor:.2f}x the baseline"
            )
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
