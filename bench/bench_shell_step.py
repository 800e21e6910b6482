"""Shell step round trip per backend (echo, ``ls /``, a 4 KiB ``cat``), against the
floor: a persistent bash on the host over pipes, driven with a plain marker protocol.
Also, for docker, a fresh ``docker exec`` per command, the way this is often done.

    python bench/bench_shell_step.py [--calls 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _timing import interleaved, print_table

from taskgym.sandboxes import make_sandbox, unavailable_reason

COMMANDS = {"echo": "echo hi", "ls /": "ls /", "cat 4 KiB": "cat four_k.txt"}


class HostPipeShell:
    """The floor: bash on the host, one line in, read up to a fixed marker."""

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    boxes, sessions = [], {}
    host_dir = make_sandbox("local")  # only for a directory holding the 4 KiB file
    host_dir.write_file("four_k.txt", "x" * 4096)
    boxes.append(host_dir)
    floor = HostPipeShell(host_dir.workdir)  # type: ignore[attr-defined]
    for backend in ("local", "bwrap", "docker"):
        reason = unavailable_reason(backend)
        if reason is not None:
            print(f"# {backend} skipped: {reason}")
            continue
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


if __name__ == "__main__":
    main()
