"""The checks of a shell task, run after the episode.

Declarative checks (a list in ``task.json``; each is one check)::

    {"file_exists": "report.txt"}                   a regular file (not a link)
    {"file_missing": "logs/old.log"}                nothing there, not even a link
    {"file_equals": "count.txt", "text": "42"}      trailing newlines and spaces ignored
    {"file_matches": "app.conf", "regex": "(?m)^port = 8080$"}
    {"command": "stat -c %a secret.txt", "output": "600"}    output stripped, compared
    {"command": "test -x run.sh"}                   passes when the exit status is 0
    {"file_changes": "heartbeat.txt"}               something still running rewrites it
                                                    (it changes within 1.5 s)

Files are read by taskgym itself (``Sandbox.read_file``: regular files only, no links),
never by a process the agent could have prepared; commands and the check script run in
fresh processes after every process of the episode was stopped. Only ``file_changes``,
which asks whether a process the agent had to leave running is alive, looks before that.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.core import Verdict
from taskgym.errors import ConfigError
from taskgym.sandboxes import Sandbox

__all__ = ["Check", "parse_checks", "run_checks"]

_KINDS = {
    "file_exists": set(),
    "file_missing": set(),
    "file_equals": {"text"},
    "file_matches": {"regex"},
    "command": {"output"},
    "file_changes": set(),
}
_CHANGE_SECONDS = 1.5
_MAX_READ = 4 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    kind: str
    target: str
    """A path relative to the work directory, or a command."""
    expected: str | None = None

    def describe(self) -> str:
        if self.expected is None:
            return f"{self.kind} {self.target}"
        return f"{self.kind} {self.target} -> {self.expected!r}"[:300]


def parse_checks(raw: Any, where: str) -> tuple[Check, ...]:
    """Checks from ``task.json``; ConfigError says which one is wrong and how."""
    checks = []
    for index, item in enumerate(raw):
        kinds = [k for k in _KINDS if isinstance(item, dict) and k in item]
        if len(kinds) != 1:
            raise ConfigError(
                f"{where}: checks[{index}] must have exactly one of {sorted(_KINDS)}, got {item!r}"
            )
        kind = kinds[0]
        extra = set(item) - {kind} - _KINDS[kind]
        missing = _KINDS[kind] - set(item) - ({"output"} if kind == "command" else set())
        if extra or missing:
            raise ConfigError(
                f"{where}: checks[{index}] ({kind}) has unknown {sorted(extra)} or lacks "
                f"{sorted(missing)}"
            )
        values = [item[kind], *(item[k] for k in _KINDS[kind] if k in item)]
        if not all(isinstance(v, str) for v in values) or not item[kind]:
            raise ConfigError(f"{where}: checks[{index}] ({kind}) takes strings")
        expected = next((item[k] for k in _KINDS[kind] if k in item), None)
        if kind == "file_matches":
            try:
                re.compile(expected or "")
            except re.error as e:
                raise ConfigError(f"{where}: checks[{index}]: bad regex: {e}") from e
        checks.append(Check(kind, item[kind], expected))
    return tuple(checks)


def run_checks(
    sandbox: Sandbox,
    checks: Sequence[Check],
    script: str,
    seconds: float,
    *,
    stop: Callable[[], None],
) -> Verdict:
    """Run every check; one verdict check each (and one for the script). ``stop`` stops
    the episode's processes: called after the ``file_changes`` checks, before the rest."""
    failures: list[dict[str, Any]] = []
    live = [i for i, c in enumerate(checks) if c.kind == "file_changes"]
    whys = dict(zip(live, _changes(sandbox, [checks[i].target for i in live]), strict=True))
    stop()
    for index, check in enumerate(checks):
        why = whys[index] if index in whys else _failure(sandbox, check, seconds)
        if why is not None:
            failures.append({"check": index, "what": check.describe(), "why": why})
    total = len(checks)
    if script:
        total += 1
        result = sandbox.run(["bash", "-c", script, "check"], timeout=seconds)
        if not result.ok:
            status = "timed out" if result.timed_out else f"exit code {result.exit_code}"
            failures.append(
                {"check": "check.sh", "why": f"{status}: {(result.out + result.err)[-500:]}"}
            )
    return Verdict(
        parsed=True, passed=total - len(failures), total=total, details={"failures": failures}
    )


def _failure(sandbox: Sandbox, check: Check, seconds: float) -> str | None:  # noqa: PLR0911
    """None when ``check`` holds, else why not."""
    if check.kind == "command":
        result = sandbox.run(check.target, timeout=seconds)
        if result.timed_out or (check.expected is None and result.exit_code != 0):
            return f"exit code {result.exit_code}" + (" (timed out)" if result.timed_out else "")
        if check.expected is not None and result.out.strip() != check.expected.strip():
            return f"printed {result.out.strip()[:200]!r}"
        return None
    if check.kind == "file_missing":  # nothing at all there: no file, directory or link
        gone = sandbox.run(["sh", "-c", '[ ! -e "$1" ] && [ ! -L "$1" ]', "sh", check.target])
        return None if gone.ok else "it exists"
    try:
        data = sandbox.read_file(check.target, max_bytes=_MAX_READ)
    except OSError as e:
        return f"cannot read it as a regular file: {e.strerror or e}"
    text = data.decode("utf-8", errors="replace")
    if check.kind == "file_equals" and text.rstrip() != (check.expected or "").rstrip():
        return f"it holds {text[:200]!r}"
    if check.kind == "file_matches" and not re.search(check.expected or "", text):
        return "no match"
    return None


def _changes(sandbox: Sandbox, paths: list[str]) -> list[str | None]:
    """For each path, None when its content changed (or it appeared) within the window,
    else why not: only a process still running can do that."""
    if not paths:
        return []
    seen: list[set[bytes | None]] = [set() for _ in paths]
    deadline = time.monotonic() + _CHANGE_SECONDS
    while True:
        for states, path in zip(seen, paths, strict=True):
            states.add(_content(sandbox, path))
        if time.monotonic() >= deadline or all(len(states) > 1 for states in seen):
            break
        time.sleep(0.1)
    return [None if len(states) > 1 else f"unchanged for {_CHANGE_SECONDS} s" for states in seen]


def _content(sandbox: Sandbox, path: str) -> bytes | None:
    try:
        return sandbox.read_file(path, max_bytes=_MAX_READ)
    except OSError:
        return None
