"""Start-up and footprint: ``import taskgym``'s time, and its installed size per extra.

    python -m bench.import_time_and_size [--quick]

``import taskgym`` in a fresh interpreter against ``import gymnasium`` (which it needs)
and an empty interpreter, and the installed size of taskgym with its dependencies,
without and with each extra. Goal: import under 150 ms with no extra loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from functools import partial
from importlib import metadata
from pathlib import Path

from bench.ratios import Report, interleaved_rounds, report_main

__all__ = ["installed_bytes", "main", "run"]

_EXTRAS = ("docker", "sympy", "ray")


def _seconds(code: str) -> float:
    # With bytecode caches written and read, as after a pip install (which compiles
    # them): PYTHONDONTWRITEBYTECODE would have every run compile taskgym again.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def _requirements(dist: metadata.Distribution, extra: str | None) -> list[str]:
    """The names ``dist`` requires (for ``extra``, or its core), on this machine."""
    names = []
    for line in dist.requires or []:
        requirement, _, marker = line.partition(";")
        if not _applies(marker.strip(), extra):
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
        if match:
            names.append(match.group(0))
    return names


def _applies(marker: str, extra: str | None) -> bool:
    if not marker:
        return extra is None
    try:
        from packaging.markers import Marker  # where installed

        return Marker(marker).evaluate({"extra": extra or ""})
    except ImportError:  # a rough reading: only the extra decides
        named = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        return (named.group(1) if named else None) == extra


def _size(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        if file.size is not None:
            total += file.size
        else:
            path = Path(str(dist.locate_file(file)))
            total += path.stat().st_size if path.is_file() else 0
    if dist.metadata["Name"].lower() == "taskgym":  # an editable install lists no files
        package = _taskgym_directory()
        total = max(total, sum(p.stat().st_size for p in package.rglob("*") if p.is_file()))
    return total


def _taskgym_directory() -> Path:
    """Where the taskgym package lies, found without importing it here."""
    spec = importlib.util.find_spec("taskgym")
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin).resolve().parent


def installed_bytes(extras: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """Bytes on disk of taskgym and everything it pulls in with ``extras``, and the
    distributions it needs that are not installed here (not counted)."""
    seen: dict[str, int] = {}
    missing: set[str] = set()
    todo: list[tuple[str, str | None]] = [("taskgym", None), *(("taskgym", e) for e in extras)]
    while todo:
        name, extra = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key not in seen:
            seen[key] = _size(dist)
            todo.extend((req, None) for req in _requirements(dist, None))
        if extra is not None:
            todo.extend((req, None) for req in _requirements(dist, extra))
    return sum(seen.values()), sorted(missing)


def run(quick: bool = False) -> Report:
    runs = 5 if quick else 15
    codes = {
        "python -c pass": "pass",
        "import gymnasium (baseline)": "import gymnasium",
        "import taskgym": "import taskgym",
        "import taskgym; gymnasium.make an env": (
            "import gymnasium, taskgym; gymnasium.make('taskgym/ArithmeticEasy-v0')"
        ),
    }
    for code in codes.values():
        _seconds(code)  # writes the bytecode caches
    samples = interleaved_rounds(
        runs, {name: partial(_seconds, code) for name, code in codes.items()}
    )
    medians = {name: statistics.median(values) for name, values in samples.items()}
    empty = medians.pop("python -c pass")
    base = medians["import gymnasium (baseline)"] - empty
    report = Report(
        "import_time_and_size",
        "import time (ms over an empty interpreter) and installed size",
        "ms | MiB",
        "x baseline",
        goal="import taskgym under 150 ms with no extra loaded",
    )
    for name, seconds in medians.items():
        report.add(name, (seconds - empty) * 1e3, (seconds - empty) / base)
    core, _ = installed_bytes()
    report.add("installed: taskgym and its dependencies (MiB)", core / 2**20, 1.0)
    for extra in _EXTRAS:
        size, missing = installed_bytes((extra,))
        note = f"not installed here: {', '.join(missing)}" if missing else ""
        report.add(f"installed: with the {extra} extra (MiB)", size / 2**20, size / core, note)
    taskgym_ms = medians["import taskgym"] - empty
    report.goal_met = taskgym_ms < 0.150
    report.notes.append(f"an empty interpreter starts in {empty * 1e3:.0f} ms")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return report_main(run, __doc__.splitlines()[0], argv, executors=False)


if __name__ == "__main__":
    sys.exit(main())
