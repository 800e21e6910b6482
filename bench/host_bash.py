"""The floor of a shell step, which the shell benchmarks measure their backends against:
bash on the host over pipes, with nothing of a sandbox around it."""

from __future__ import annotations

import subprocess


class HostBash:
    """Bash on the host over pipes, one line in, read up to a fixed marker (no escaping,
    no exit status, no time-out)."""

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
