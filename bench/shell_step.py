"""Shell step: a command's round trip through each backend's shell session.

    python -m bench.shell_step [--calls 200] [--rounds 3]

Echo, ``ls /`` and a 4 KiB ``cat``, against the floor: a persistent bash on the host
over pipes, driven with a plain marker protocol. Also, for docker, a fresh
``docker exec`` per command, the way this is often done.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from bench.backends import usable_backends
from bench.host_bash import HostBash
from bench.ratios import interleaved, print_table
from taskgym.sandboxes import make_sandbox

COMMANDS = {"echo": "echo hi", "ls /": "ls /", "cat 4 KiB": "cat four_k.txt"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    boxes, sessions = [], {}
    host_dir = make_sandbox("local")  # only for a directory holding the 4 KiB file
    host_dir.write_file("four_k.txt", "x" * 4096)
    boxes.append(host_dir)
    floor = HostBash(host_dir.workdir)  # type: ignore[attr-defined]
    for backend in usable_backends():
        box = make_sandbox(backend)
        box.write_file("four_k.txt", "x" * 4096)
        boxes.append(box)
        sessions[backend] = box.shell()
    try:
        for label, command in COMMANDS.items():
            candidates = {
                f"host bash over pipes (baseline): {label}": lambda c=command: floor.run(c)
            }
            for backend, session in sessions.items():
                candidates[f"{backend} session: {label}"] = lambda s=session, c=command: s.run(c)
            if "docker" in sessions:
                name = boxes[-1].name  # type: ignore[attr-defined]
                argv = ["docker", "exec", "-w", "/work", name, "sh", "-c", command]
                candidates[f"docker exec per command: {label}"] = lambda a=argv: subprocess.run(
                    a, capture_output=True, check=True
                )
            # A docker exec costs tens of milliseconds: fewer calls of it a round.
            calls = {
                k: max(args.calls // 20, 5) if "exec per" in k else args.calls for k in candidates
            }
            results = interleaved(candidates, calls=calls, rounds=args.rounds)
            print(f"# {label}")
            print_table(results, f"host bash over pipes (baseline): {label}")
            print()
    finally:
        floor.close()
        for box in boxes:
            box.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
