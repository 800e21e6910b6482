"""A hidden pytest suite run against the files an agent left in a sandbox: the grading of
project tasks (``taskgym.envs.code.project``), and of shell tasks that come with tests
(``taskgym.envs.shell.tasks``).

:func:`grade_project` runs two processes in the sandbox: the tests process
(:mod:`taskgym.inside.project_tests_process`), which never holds candidate code, and the
candidate process (:mod:`taskgym.inside.project_candidate_process`), which never holds
the tests; every call into the project goes through the host.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from taskgym.core import Verdict
from taskgym.envs.common.programs import in_sandbox_program
from taskgym.errors import CheckerError, SandboxError, SandboxUnavailableError
from taskgym.sandboxes import Limits, Sandbox
from taskgym.sandboxes.zygote import ZygoteSession, zygote_for

__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "ProjectRecord", "grade_project"]

# A project holds at most this many files of at most this many bytes (its task
# directory when read; the work directory, twice as many files, when carried over).
MAX_FILES = 200
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class ProjectRecord:
    """One project task, as read from its directory."""

    id: str
    prompt: str
    files: dict[str, str]
    tests: dict[str, str]
    solution: dict[str, str]
    modules: tuple[str, ...]
    max_turns: int = 12
    test_seconds: float = 60.0
    call_seconds: float = 10.0
    run_seconds: float = 10.0
    source: str = field(default="", compare=False)


_TESTS_SOURCE = in_sandbox_program("run_project_tests", "project_tests_process")
_CANDIDATE_SOURCE = in_sandbox_program("serve_project", "project_candidate_process")
# Lists the work directory's regular files (no links), so grading can carry them over.
_LIST_FILES = """
import json, os
found = []
for top, dirs, files in os.walk("."):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for name in sorted(files):
        path = os.path.join(top, name)[2:]
        if os.path.isfile(path) and not os.path.islink(path) and not name.endswith(".pyc"):
            found.append(path)
print(json.dumps(found[:LIMIT]))
""".replace("LIMIT", str(MAX_FILES * 2))


def grade_project(sandbox: Sandbox, record: ProjectRecord, *, carry_over: bool = True) -> Verdict:
    """Run ``record``'s hidden tests against the files the agent left in ``sandbox``.

    The agent's regular files are read out, the sandbox is reset (everything the agent
    started is stopped: nothing of it runs while the tests are graded) and the files are
    put back. Then the tests process collects the tests and deletes them before any
    candidate code starts, and every call into the project goes through the host (see
    :mod:`taskgym.inside.project_tests_process`). One check per collected test; a test
    without a report (the time ran out, the tests process died) failed. The tests run in
    the work directory (they may read its files). ``carry_over=False``: the caller has
    stopped every process of the episode already (``Sandbox.stop_processes``), and the
    files stay as they are."""
    files = _carry_over(sandbox) if carry_over else []
    limits = sandbox.limits.replace(
        wall_seconds=record.test_seconds + 5, cpu_seconds=math.ceil(record.test_seconds) + 5
    )
    deadline = time.monotonic() + record.test_seconds
    with zygote_for(sandbox, "project-tests").session(_TESTS_SOURCE, limits=limits) as tests:
        request = {"tests": record.tests, "modules": list(record.modules)}
        collected, why = tests.exchange(request, deadline)
        ids = _collected(record, collected, why)
        with _Candidate(sandbox, record, limits) as candidate:
            results, problem = _relay(tests, candidate, set(ids), deadline)
    failures = [
        {"test": test, "why": results.get(test, (False, "no result"))[1][-1000:]}
        for test in ids
        if not results.get(test, (False, ""))[0]
    ]
    passed = len(ids) - len(failures)
    details: dict[str, Any] = {"failures": failures[:20], "files": len(files)}
    if problem:
        details["problem"] = problem
    return Verdict(parsed=True, passed=passed, total=len(ids), details=details)


def _carry_over(sandbox: Sandbox) -> list[str]:
    listing = sandbox.run(["python3", "-I", "-S", "-c", _LIST_FILES], timeout=30)
    try:
        paths = json.loads(listing.out) if listing.ok else []
    except (ValueError, RecursionError):  # what a process of the agent's wrote there
        paths = []
    files: dict[str, bytes] = {}
    total = 0
    for path in paths if isinstance(paths, list) else []:
        if not isinstance(path, str) or total > 64 * MAX_FILE_BYTES:
            continue
        try:
            files[path] = sandbox.read_file(path, max_bytes=MAX_FILE_BYTES * 4)
        except (OSError, ValueError):
            continue
        total += len(files[path])
    sandbox.reset()
    for path, data in files.items():
        sandbox.write_file(path, data)
    return list(files)


def _collected(record: ProjectRecord, message: dict[str, Any] | None, why: str) -> list[str]:
    if message is None:
        raise SandboxError(f"the tests process of {record.id!r} did not start: {why}")
    if "fatal" in message:
        fatal = str(message["fatal"])
        if "cannot be imported" in fatal:
            raise SandboxUnavailableError(
                f"{fatal}. Project tasks run pytest inside the sandbox: install it where the "
                "sandbox's python3 finds it (Debian: apt-get install python3-pytest; the "
                "docker image: taskgym images build)"
            )
        raise CheckerError(f"the tests of {record.id!r} failed to run: {fatal}")
    errors = message.get("errors") or []
    ids = message.get("collected")
    if errors:
        raise CheckerError(f"the tests of {record.id!r} do not collect: {errors[0][:1500]}")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise CheckerError(f"the tests of {record.id!r} collected no test")
    return list(dict.fromkeys(ids))


class _Candidate:
    """The candidate's process, started when the tests first need it and again after it
    died or ran out of time (its objects are then gone)."""

    def __init__(self, sandbox: Sandbox, record: ProjectRecord, limits: Limits) -> None:
        self.zygote = zygote_for(sandbox, "candidates")
        self.record, self.limits = record, limits
        self.session: ZygoteSession | None = None
        self.stack = ExitStack()
        self.generation = 0

    def __enter__(self) -> _Candidate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def ask(self, op: Any, deadline: float) -> dict[str, Any]:
        call_deadline = min(deadline, time.monotonic() + self.record.call_seconds)
        if self.session is None:
            self.generation += 1
            self.session = self.stack.enter_context(
                self.zygote.session(_CANDIDATE_SOURCE, limits=self.limits)
            )
            ready, why = self.session.exchange({"generation": self.generation}, call_deadline)
            if ready != {"ready": True}:
                return self._stop(f"the candidate's process did not start: {why}")
        reply, why = self.session.exchange(op, call_deadline)
        if reply is None:
            late = time.monotonic() >= call_deadline
            reason = (
                f"the candidate did not answer within {self.record.call_seconds:g} s"
                if late
                else f"the candidate's process ended ({why})"
            )
            return self._stop(f"{reason}; it was stopped, and its objects are gone")
        return reply

    def _stop(self, why: str) -> dict[str, Any]:
        self.stack.close()
        self.stack, self.session = ExitStack(), None
        return {"error": why}


def _relay(
    tests: ZygoteSession, candidate: _Candidate, ids: set[str], deadline: float
) -> tuple[dict[str, tuple[bool, str]], str]:
    """Carry the tests' operations to the candidate and its answers back; collect each
    test's outcome as the tests process reports it. Returns (results, problem)."""
    results: dict[str, tuple[bool, str]] = {}
    message, why = tests.exchange({"go": True}, deadline)
    while True:
        if message is None:
            return results, f"the tests did not finish: {why}"
        if "result" in message:
            result = message["result"]
            test = result.get("id") if isinstance(result, dict) else None
            if test in ids and test not in results:
                results[test] = (result.get("passed") is True, str(result.get("why", "")))
            message, why = tests.exchange(None, deadline)
        elif "op" in message:
            message, why = tests.exchange(candidate.ask(message["op"], deadline), deadline)
        elif "done" in message:
            return results, ""
        elif "fatal" in message:
            return results, f"the tests process failed: {str(message['fatal'])[-500:]}"
        else:
            return results, "the tests process sent something unexpected"
