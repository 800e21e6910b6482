"""Shell env: a step, a 10-turn episode and an episode's set-up, per backend.

    python -m bench.shell_env [--steps 200] [--episodes 20] [--rounds 3]

1. Step latency: ``env.step("echo hi")`` on ``taskgym/ShellTasks-v0`` against the floor,
   a persistent bash on the host over pipes driven with a fixed marker.
2. Episodes per minute of a 10-turn reference episode (nine commands, then submit, then
   the checks), against the same ten commands typed into the host's bash.
3. Set-up: ``reset()`` and the first command (which starts the shell) of a new env whose
   sandbox must be made, against one that leases from a warm ``SandboxPool``, and the
   ``close()`` that gives the sandbox back (the pool resets it then).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym

import taskgym  # noqa: F401 - registers the envs
from bench.backends import usable_backends
from bench.host_bash import HostBash
from bench.ratios import interleaved, print_table
from taskgym.sandboxes.pool import SandboxPool

COMMANDS = [
    "mkdir -p out",
    "seq 1 500 > out/numbers.txt",
    "wc -l < out/numbers.txt",
    "grep -c 7 out/numbers.txt",
    "sort -rn out/numbers.txt | head -3",
    "cd out",
    "awk '{s += $1} END {print s}' numbers.txt > sum.txt",
    "cat sum.txt",
    "cd ..",
]


def write_task(root: Path) -> str:
    task = root / "ten-turns"
    task.mkdir()
    (task / "task.json").write_text(
        json.dumps(
            {
                "id": "ten-turns",
                "instruction": "Sum the numbers 1 to 500 into out/sum.txt.",
                "checks": [{"file_equals": "out/sum.txt", "text": "125250"}],
                "max_turns": 12,
            }
        )
    )
    (task / "solution.sh").write_text("\n".join(COMMANDS) + "\n")
    steps = root / "many-steps"  # an episode long enough to time single steps in
    steps.mkdir()
    (steps / "task.json").write_text(
        json.dumps(
            {
                "id": "many-steps",
                "instruction": "Type commands.",
                "checks": [{"command": "true"}],
                "max_turns": 10**7,
            }
        )
    )
    (steps / "solution.sh").write_text("true\n")
    return str(root)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    backends = usable_backends()

    with tempfile.TemporaryDirectory() as tmp:
        path = write_task(Path(tmp))
        host = HostBash(tmp)
        envs = {b: gym.make("taskgym/ShellTasks-v0", tasks=path, sandbox=b) for b in backends}
        try:
            for env in envs.values():
                env.reset(options={"task_id": "many-steps"})
            steps = {"host bash over pipes (baseline)": lambda: host.run("echo hi")}
            for backend, env in envs.items():
                steps[f"{backend}: env.step('echo hi')"] = lambda e=env: e.step("echo hi")
            print("# one shell step")
            print_table(
                interleaved(steps, calls=args.steps, rounds=args.rounds),
                "host bash over pipes (baseline)",
            )

            def host_episode() -> None:
                for command in COMMANDS:
                    host.run(command)
                host.run("cd " + tmp)

            episodes = {"host bash, the 10 commands (baseline)": host_episode}
            for backend, env in envs.items():
                episodes[f"{backend}: 10-turn reference episode"] = lambda e=env: play(e)
            print("\n# a 10-turn reference episode (reset, 9 commands, submit, checks)")
            results = interleaved(episodes, calls=args.episodes, rounds=args.rounds)
            print_table(results, "host bash, the 10 commands (baseline)")
            for name, seconds in results.items():
                print(f"{name:<44} {60 / seconds:>10.0f} episodes/minute")
        finally:
            host.close()
            for env in envs.values():
                env.close()

        bench_set_up(path, backends, args)
    return 0


def bench_set_up(path: str, backends: list[str], args: argparse.Namespace) -> None:
    print("\n# set-up: reset() + first command + close(), new sandbox or warm pool")
    for backend in backends:
        with SandboxPool(backend, size=2) as pool:
            pooled = gym.make("taskgym/ShellTasks-v0", tasks=path, sandbox_pool=pool)

            def cold(b: str = backend) -> None:
                env = gym.make("taskgym/ShellTasks-v0", tasks=path, sandbox=b)
                env.reset(options={"task_id": "ten-turns"})
                env.step("true")  # the first command starts the shell
                env.close()

            def warm(e: gym.Env = pooled) -> None:  # type: ignore[type-arg]
                e.reset(options={"task_id": "ten-turns"})
                e.step("true")
                e.close()  # back to the pool, reset there

            calls = max(args.episodes // 2, 3)
            start = time.perf_counter()
            results = interleaved(
                {f"{backend}: new sandbox (baseline)": cold, f"{backend}: warm pool": warm},
                calls=calls,
                rounds=args.rounds,
            )
            print_table(results, f"{backend}: new sandbox (baseline)")
            print(f"#   ({time.perf_counter() - start:.1f} s)")
            pooled.close()


def play(env: gym.Env) -> None:  # type: ignore[type-arg]
    env.reset(options={"task_id": "ten-turns"})
    for action in env.unwrapped.problem.solution:  # type: ignore[attr-defined]
        *_, info = env.step(action)
    if not info["verdict"]["solved"]:
        raise RuntimeError(f"the reference failed: {info['verdict']}")


if __name__ == "__main__":
    sys.exit(main())
