"""Comparison with a reference run (InterCode-style): for tasks whose natural answer is
"what the right commands print or change".

After the episode, the task's reference commands run in a twin sandbox made from the
same starting state. Two scores come out, each in [0, 1]:

- ``files``: of the paths whose content changed from the starting state in either run,
  the fraction that ended the same in both (1.0 when neither changed anything);
- ``output``: how alike the last command's output of each run is (``difflib`` ratio of
  the whitespace-normalised texts; 1.0 when both printed nothing).

``score`` is the mean of those the reference makes meaningful: ``files`` when the
reference changes files, ``output`` when its last command prints (so that doing
nothing, which prints nothing, does not match a reference that only writes). They go
in the verdict's details under ``reference_run``, where the ``reference_match`` reward
reads them; the checks' verdict is unchanged.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from taskgym.envs.shell.checks import shown
from taskgym.sandboxes import Sandbox, make_sandbox

__all__ = ["command_output", "compare_with_reference", "snapshot"]

# Prints {path: state} for the work directory: files as "MODE:sha256", directories as
# "dir:MODE", links as "link:TARGET" (permissions are part of what a command changes).
_SNAPSHOT = r"""
import hashlib, json, os, stat
found = {}
for top, dirs, files in os.walk("."):
    dirs.sort()
    for name in sorted(files) + dirs:
        path = os.path.join(top, name)[2:]
        info = os.lstat(path)
        mode = format(stat.S_IMODE(info.st_mode), "o")
        if stat.S_ISLNK(info.st_mode):
            found[path] = "link:" + os.readlink(path)
        elif stat.S_ISDIR(info.st_mode):
            found[path] = "dir:" + mode
        elif stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 16), b""):
                        digest.update(block)
                found[path] = mode + ":" + digest.hexdigest()
            except OSError:
                found[path] = mode + ":unreadable"
        if len(found) >= 20000:
            break
print(json.dumps(found))
"""
_OUTPUT_CHARS = 20_000


def snapshot(sandbox: Sandbox) -> dict[str, str]:
    """The work directory's files and their hashes (as a fresh process sees them)."""
    result = sandbox.run(["python3", "-I", "-S", "-c", _SNAPSHOT], timeout=60)
    try:
        found = json.loads(result.out) if result.ok else {}
    except ValueError:
        found = {}
    return found if isinstance(found, dict) else {}


def command_output(observation: str) -> str:
    """A shell observation without taskgym's notes (``[exit code 0]``...)."""
    lines = observation.splitlines()
    while lines and lines[-1].startswith("[") and lines[-1].endswith("]"):
        lines.pop()
    return "\n".join(lines)


def compare_with_reference(
    *,
    backend: str,
    options: dict[str, Any],
    setup: str,
    commands: Sequence[str],
    agent_files: dict[str, str],
    agent_output: str,
    command_seconds: float,
) -> dict[str, Any]:
    """Run ``commands`` after ``setup`` in a new sandbox and compare (see the module)."""
    with make_sandbox(backend, **options) as twin:
        if setup:
            twin.run(["bash", "-c", setup, "setup"], timeout=max(command_seconds, 30))
        start = snapshot(twin)
        output = ""
        with twin.shell(timeout=command_seconds, output_bytes=64 * 1024) as shell:
            for command in commands:
                output = shell.run(command).output
        twin.stop_processes()
        reference_files = snapshot(twin)
    changed = {
        path
        for path in set(start) | set(agent_files) | set(reference_files)
        if agent_files.get(path) != start.get(path) or reference_files.get(path) != start.get(path)
    }
    same = sorted(p for p in changed if agent_files.get(p) == reference_files.get(p))
    changed_by_reference = any(reference_files.get(p) != start.get(p) for p in changed)
    files = len(same) / len(changed) if changed else 1.0
    text = " ".join(output.split())[:_OUTPUT_CHARS]
    agent_text = " ".join(agent_output.split())[:_OUTPUT_CHARS]
    alike = difflib.SequenceMatcher(None, agent_text, text, autojunk=False).ratio()
    output_score = 1.0 if not text and not agent_text else alike
    # Judge what the reference does: a reference that only writes files is matched on
    # files (doing nothing prints nothing too), one that only prints on its output.
    parts = [s for s, used in ((files, changed_by_reference), (output_score, bool(text))) if used]
    score = sum(parts) / len(parts) if parts else (files + output_score) / 2
    return {
        "files": round(files, 6),
        "output": round(output_score, 6),
        "score": round(score, 6),
        "differ": [shown(path) for path in sorted(changed - set(same))[:20]],
    }
