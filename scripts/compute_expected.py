"""Fill in the expected values of the bundled code tasks by running their references.

    python scripts/compute_expected.py           # rewrite every task.json that changed
    python scripts/compute_expected.py --check   # change nothing; exit 1 if one would

A function task (``taskgym/envs/code/data/functions/<n>-<id>/``) lists its cases as
``{"args": [...]}`` in ``task.json``; this script runs ``solution.py`` on each case's
arguments and writes the return value as ``"expected"``. A stdin/stdout task
(``data/stdio/<n>-<id>/``) gets each case's ``"stdout"`` from running ``solution.py`` on
its ``"stdin"``. Expected values are thus computed, never typed.

The references are the project's own code, run at authoring time: each task's in a
subprocess of its own (``python -I``, with a time limit), not in a sandbox. A process per
task keeps one reference's imports and patches from reaching another's, and out of this
script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "taskgym" / "envs" / "code" / "data"
SECONDS = 60

# Runs in the child: the reference on every case's arguments, the results as JSON (so a
# tuple comes back as a list, as the grader compares it).
_CALL_ALL = """
import json, sys
job = json.load(sys.stdin)
namespace = {"__name__": "solution"}
exec(compile(job["source"], job["path"], "exec"), namespace)
function = namespace[job["entry_point"]]
print(json.dumps([function(*args) for args in job["calls"]]))
"""


def function_task(task: dict[str, Any], solution: Path) -> dict[str, Any]:
    """``task`` with each case's ``expected`` set to what ``solution`` returns."""
    cases = [*task.get("examples", []), *task["tests"]]
    job = {
        "source": solution.read_text(encoding="utf-8"),
        "path": str(solution),
        "entry_point": task["entry_point"],
        "calls": [case["args"] for case in cases],
    }
    results = json.loads(_run(["-c", _CALL_ALL], json.dumps(job).encode(), solution))
    for case, result in zip(cases, results, strict=True):
        case["expected"] = result
    return task


def stdio_task(task: dict[str, Any], solution: Path) -> dict[str, Any]:
    """``task`` with each case's ``stdout`` set to what ``solution`` prints."""
    for case in [*task.get("examples", []), *task["tests"]]:
        case["stdout"] = _run([str(solution)], case["stdin"].encode(), solution)
    return task


def _run(args: list[str], stdin: bytes, solution: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-I", *args],
        input=stdin,
        capture_output=True,
        timeout=SECONDS,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{solution} failed:\n{done.stderr.decode(errors='replace')}")
    return done.stdout.decode()


def task_json(task: dict[str, Any]) -> str:
    """The text of a ``task.json``: one field a line, and one case a line."""
    fields = []
    for key, value in task.items():
        if key in ("examples", "tests") and value:
            cases = ",\n".join(f"    {_one_line(case)}" for case in value)
            fields.append(f'  "{key}": [\n{cases}\n  ]')
        else:
            fields.append(f"  {_one_line(key)}: {_one_line(value)}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _one_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a change")
    check = parser.parse_args().check
    stale = []
    for kind, fill in (("functions", function_task), ("stdio", stdio_task)):
        for directory in sorted(p for p in (DATA / kind).iterdir() if p.is_dir()):
            manifest = directory / "task.json"
            before = manifest.read_text(encoding="utf-8")
            after = task_json(fill(json.loads(before), directory / "solution.py"))
            if after != before:
                stale.append(manifest)
                if not check:
                    manifest.write_text(after, encoding="utf-8")
    verb = "out of date" if check else "rewritten"
    print("\n".join(f"{verb}: {path}" for path in stale) or "every task.json is up to date")
    if check and stale:
        print("(run python scripts/compute_expected.py to rewrite them)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
