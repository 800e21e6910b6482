"""Harbor tasks written to be attacked: each grades one small job (``/app/answer.txt``
holds 42) in a way that a planted file, a process left running or a tampered tool could
fool if the grader let it. Real Docker: they skip (or fail where CI requires docker)
without an engine or taskgym's base image."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import REQUIRED_BACKENDS

MARKER = "HIDDEN-TEST-MARKER-7f3a9c"
"""In every attack task's tests/: an agent that reads the tests sees it."""
DONE = "echo 42 > /app/answer.txt"
WRONG = "echo 41 > /app/answer.txt"
# test.sh writes a reward only when the job is done: a reward file planted before the
# tests run would be the only one there when it is not.
ANSWER_TEST = f"""#!/bin/bash
# {MARKER}
sleep 1
if [ "$(cat /app/answer.txt 2>/dev/null)" = 42 ]; then echo 1 > /logs/verifier/reward.txt; fi
"""


def write_task(
    root: Path,
    name: str,
    *,
    test_sh: str = ANSWER_TEST,
    toml: str = "",
    separate: bool = False,
    verifier_setup: str = "",
) -> Path:
    """A Harbor task directory ``root/name`` whose job is /app/answer.txt = 42."""
    directory = root / name
    files = {
        "task.toml": "[verifier]\ntimeout_sec = 20.0\n[agent]\ntimeout_sec = 300.0\n" + toml,
        "instruction.md": "Write 42 to /app/answer.txt.\n",
        "environment/Dockerfile": "FROM ubuntu:24.04\nWORKDIR /app\n",
        "solution/solve.sh": f"#!/bin/bash\n{DONE}\n",
        "tests/test.sh": test_sh,
        "tests/notes.txt": f"{MARKER}: the expected answer is 42\n",
    }
    if separate:
        files["task.toml"] = files["task.toml"].replace(
            "[verifier]\n", '[verifier]\nenvironment_mode = "separate"\n'
        )
        files["tests/Dockerfile"] = (
            f"# {MARKER}\nFROM ubuntu:24.04\n{verifier_setup}WORKDIR /app\nCOPY . /tests/\n"
        )
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.endswith(".sh"):
            path.chmod(0o755)
    return directory


def missing(component: str, message: str) -> None:
    """Skip for a missing ``component``, or fail where TASKGYM_REQUIRE_BACKENDS names it
    (CI requires docker and harbor)."""
    if component in REQUIRED_BACKENDS:
        pytest.fail(f"{component} is required here (TASKGYM_REQUIRE_BACKENDS) but: {message}")
    pytest.skip(message)


def require_runsc() -> None:
    """gVisor's runsc registered with the Docker engine (CI requires it)."""
    argv = ["docker", "info", "--format", "{{json .Runtimes}}"]
    info = subprocess.run(argv, capture_output=True, text=True, check=False)
    if "runsc" not in info.stdout:
        missing("runsc", "the Docker engine has no runsc runtime (gVisor): see docs/sandboxes.md")
