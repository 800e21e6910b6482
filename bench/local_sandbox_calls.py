"""Local sandbox calls: one command in the local sandbox, against spawning it bare.

    python -m bench.local_sandbox_calls [--calls 100] [--rounds 5] [--parent-mib 0]

Baseline: ``os.posix_spawn("/bin/true")`` + ``waitpid``, the floor for starting a process.
``--parent-mib 2048`` first fills that much memory in this process, as a trainer holding
a model would: spawning through setpriv+prlimit (vfork) should not care, a preexec_fn
(fork, which copies the page tables) should.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

from bench.ratios import interleaved, print_table
from taskgym.sandboxes import make_sandbox
from taskgym.sandboxes.local import LocalSandbox


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parent-mib", type=int, default=0)
    args = parser.parse_args(argv)
    ballast = bytearray(args.parent_mib * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1  # touch every page so it is really resident

    def posix_spawn_true() -> None:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
        os.waitpid(pid, 0)

    box = make_sandbox("local")
    assert isinstance(box, LocalSandbox)
    preexec_box = LocalSandbox()
    preexec_box._prlimit = None  # the fallback path: limits applied in a preexec_fn
    try:
        results = interleaved(
            {
                "posix_spawn /bin/true (baseline)": posix_spawn_true,
                "subprocess.run /bin/true": lambda: subprocess.run(["/bin/true"], check=True),
                "LocalSandbox.run true (setpriv+prlimit)": lambda: box.run(["true"]),
                "LocalSandbox.run true (preexec_fn)": lambda: preexec_box.run(["true"]),
                "LocalSandbox.run echo with stdin": lambda: box.run(["cat"], stdin=b"x" * 4096),
            },
            calls=args.calls,
            rounds=args.rounds,
        )
    finally:
        box.close()
        preexec_box.close()
    print(
        f"# local sandbox, uid {os.geteuid()} -> runs as {box._uid}, parent +{args.parent_mib} MiB"
    )
    print_table(results, "posix_spawn /bin/true (baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
