"""Shell tasks: the agent types one command a turn in a persistent shell and says
``submit`` when done; checks of what it left behind decide the reward.

A task is one directory (documented in ``docs/shell-tasks.md``)::

    archive-old-logs/
      task.json     {"id": "...", "instruction": "...",                      required
                     "max_turns": 15, "command_seconds": 10, "check_seconds": 30,
                     "checks": [{"file_equals": "count.txt", "text": "3"}, ...],
                     "image": "shell-tools",   optional: runs only in this docker image
                                               (taskgym/sandboxes/images/<image>/)
                     "deterministic": false}   the reference leaves different files each
                                               run: never compared with a reference run
      setup.sh      optional: bash that builds the starting state, in the work directory
      solution.sh   the reference: one command a line (a line ending in \\ goes on)
      check.sh      optional: bash run after the episode; exit status 0 passes
      tests/        optional: a pytest suite run after the episode in the work directory;
                    "modules" in task.json names the agent's Python modules it imports

Each declarative check, the check script and each test of ``tests/`` count as one check
(see :mod:`.checks`; the tests run as project tasks' hidden tests do, in a process that
holds none of the agent's code: :func:`taskgym.envs.common.project_tests.grade_project`).
Checks run after the agent is done, once every process of the episode is stopped, in
fresh processes started from taskgym: the scripts never enter the sandbox before then,
and nothing the agent left running can touch files while they run. What ``unchanged``
checks compare with is walked right after the setup, before the agent's first command.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from taskgym.core import Execution, Problem, Reply, Tool, Turn, Verdict
from taskgym.envs.common.project_tests import ProjectRecord, grade_project
from taskgym.envs.common.records import (
    MultiTurnRecordsTask,
    deprecated_path,
    read_manifest,
    read_task_dirs,
    take_deprecated_path,
)
from taskgym.envs.common.shell_turns import SUBMIT, command_report, shell_tools, strip_fence
from taskgym.envs.shell.checks import Baseline, Check, parse_checks, run_checks, take_baseline
from taskgym.envs.shell.reference import command_output, compare_with_reference, snapshot
from taskgym.errors import CheckerError, ConfigError
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.shell import ShellSession

__all__ = ["BUNDLED_SHELL_TASKS", "ShellRecord", "ShellTask", "load_shell_tasks", "strip_fence"]

BUNDLED_SHELL_TASKS = str(Path(__file__).with_name("data"))
_SHELL_TOOLS = shell_tools("the persistent bash shell", "the files and state left are checked")
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "instruction": str,
    "max_turns": int,
    "command_seconds": (int, float),
    "check_seconds": (int, float),
    "checks": list,
    "image": str,
    "deterministic": bool,
    "modules": list,
}
_OUTPUT_BYTES = 8 * 1024  # of each command's output, head and tail kept
# A longer "command" is not one anybody types: refused unread, so garbage costs nothing.
MAX_COMMAND_CHARS = 16 * 1024


@dataclass(frozen=True)
class ShellRecord:
    """One shell task, as read from its directory."""

    id: str
    instruction: str
    solution: tuple[str, ...]
    setup: str = ""
    check_script: str = ""
    checks: tuple[Check, ...] = ()
    max_turns: int = 15
    command_seconds: float = 10.0
    check_seconds: float = 30.0
    image: str | None = None
    tests: dict[str, str] = field(default_factory=dict)
    modules: tuple[str, ...] = ()
    deterministic: bool = True
    """Whether the reference leaves the same files each run (no times or process ids),
    so that a reference run can be compared with (see :mod:`.reference`)."""
    source: str = field(default="", compare=False)

    @property
    def total_checks(self) -> int:
        """The checks known before the tests are collected (each test adds one)."""
        return len(self.checks) + bool(self.check_script) + bool(self.tests)


def load_shell_tasks(path: str | Path) -> list[ShellRecord]:
    """A task directory, or every task directory in ``path`` (sorted by name)."""
    return read_task_dirs(path, _load_one, "shell")


def _load_one(directory: Path) -> ShellRecord:
    raw = read_manifest(
        directory / "task.json",
        _FIELDS,
        required=("id", "instruction"),
        positive=("max_turns", "command_seconds", "check_seconds"),
    )
    solution = _commands(_text(directory / "solution.sh", required=True))
    if not solution:
        raise ConfigError(f"{directory}/solution.sh holds no command")
    record = ShellRecord(
        id=raw["id"],
        instruction=raw["instruction"],
        solution=solution,
        setup=_text(directory / "setup.sh"),
        check_script=_text(directory / "check.sh"),
        checks=parse_checks(raw.get("checks", []), str(directory / "task.json")),
        image=raw.get("image"),
        tests=_tests(directory, raw.get("modules", [])),
        modules=tuple(raw.get("modules", [])),
        deterministic=raw.get("deterministic", True),
        **{k: raw[k] for k in ("max_turns", "command_seconds", "check_seconds") if k in raw},
        source=str(directory),
    )
    if not record.total_checks:
        raise ConfigError(
            f"{directory}: a task needs 'checks' in task.json, a check.sh or a tests/ suite"
        )
    if len(record.solution) >= record.max_turns:
        raise ConfigError(
            f"{directory}: the reference takes {len(record.solution)} commands and a submit, "
            f"more than max_turns={record.max_turns}"
        )
    return record


def _tests(directory: Path, modules: list[Any]) -> dict[str, str]:
    """The pytest suite in ``tests/`` (test files, conftest.py, helpers), if any."""
    if not all(isinstance(m, str) and m.isidentifier() for m in modules):
        raise ConfigError(f"{directory}/task.json: 'modules' is a list of Python names")
    suite = directory / "tests"
    if not suite.is_dir():
        if modules:
            raise ConfigError(f"{directory}: 'modules' is given but there is no tests/ suite")
        return {}
    tests = {
        path.relative_to(suite).as_posix(): _text(path)
        for path in sorted(suite.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    if not any(Path(name).name.startswith("test_") for name in tests):
        raise ConfigError(f"{suite} holds no test_*.py file")
    return tests


def _text(path: Path, *, required: bool = False) -> str:
    if not path.is_file():
        if required:
            raise ConfigError(f"{path.parent}: {path.name} is missing")
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not UTF-8 text: {e}") from e


def _commands(script: str) -> tuple[str, ...]:
    """One command a line; a line that ends in a backslash goes on to the next; blank
    lines and lines that start with # are skipped."""
    commands: list[str] = []
    pending = ""
    for line in script.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + "\n"
            continue
        commands.append(pending + line)
        pending = ""
    if pending:
        commands.append(pending.rstrip("\n"))
    return tuple(commands)


# One persistent shell per sandbox, opened at the episode's first command.
_SHELLS: weakref.WeakKeyDictionary[Sandbox, ShellSession] = weakref.WeakKeyDictionary()
# What the setup left of the paths that 'unchanged' checks compare, per sandbox.
_BASELINES: weakref.WeakKeyDictionary[Sandbox, Baseline] = weakref.WeakKeyDictionary()


def _shell(sandbox: Sandbox, record: ShellRecord) -> ShellSession:
    session = _SHELLS.get(sandbox)
    if session is None or session.closed:
        session = sandbox.shell(timeout=record.command_seconds, output_bytes=_OUTPUT_BYTES)
        _SHELLS[sandbox] = session
    return session


@dataclass(frozen=True)
class ShellTask(MultiTurnRecordsTask):
    """Do what the instruction says in a shell, one command a turn; checks of the state
    left behind grade it (multi-turn).

    Args:
        tasks: a shell task directory, or a directory of them; default: the bundled ones.
            ``path=``, its old name, is still taken for one release.
        with_image: only the tasks that need a docker image of their own (True), only
            those that run in any sandbox (False), or all (None). A task with an image
            gets a docker sandbox of that image whatever the env's sandbox is.
        reference_run: also run the task's reference in a twin sandbox after the episode
            and compare the files and the last output (:mod:`.reference`), for the
            ``reference_match`` reward.
    """

    tasks: str | None = None
    with_image: bool | None = None
    reference_run: bool = False
    path: str | None = deprecated_path()  # the old name of tasks=
    family: ClassVar[str] = "shell"
    execution: ClassVar[Execution] = Execution(needs_sandbox=True, hides_tests=True)

    def __post_init__(self) -> None:
        take_deprecated_path(self)
        records = load_shell_tasks(self.tasks or BUNDLED_SHELL_TASKS)
        if self.with_image is not None:
            records = [r for r in records if (r.image is not None) == self.with_image]
        if self.reference_run:  # a reference run must be one that can be repeated
            records = [r for r in records if r.deterministic]
        if not records:
            raise ConfigError(
                f"no task in {self.tasks or BUNDLED_SHELL_TASKS} fits with_image="
                f"{self.with_image}, reference_run={self.reference_run}"
            )
        self._keep({r.id: r for r in records})

    def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        image = self._records_by_id[problem.id].image
        return None if image is None else ("docker", {"image": f"taskgym/{image}:latest"})

    def _problem_for(self, record: ShellRecord) -> Problem:
        prompt = _prompt(record, self.turns_told(record.max_turns))
        return Problem(id=record.id, prompt=prompt, solution=(*record.solution, SUBMIT))

    def tools(self) -> tuple[Tool, ...]:
        return _SHELL_TOOLS

    def near_misses(self, problem: Problem) -> dict[str, tuple[str, ...]]:
        """For the conformance checks: the reference that submits before its last
        command (the default would drop the submit and leave the work done)."""
        return {"the reference without its last command": (*problem.solution[:-2], SUBMIT)}

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        record: ShellRecord = self._records_by_id[problem.id]
        _SHELLS.pop(sandbox, None)
        _BASELINES.pop(sandbox, None)
        if record.setup:
            argv = ["bash", "-c", record.setup, "setup"]
            result = sandbox.run(argv, timeout=record.check_seconds)
            if not result.ok:
                raise CheckerError(
                    f"the setup of shell task {record.id!r} failed (exit {result.exit_code}): "
                    f"{(result.out + result.err)[-500:]}"
                )
        if any(c.kind == "unchanged" for c in record.checks):
            _BASELINES[sandbox] = take_baseline(sandbox, record.checks, record.check_seconds)

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        record: ShellRecord = self._records_by_id[problem.id]
        command = strip_fence(action).strip()
        if command == SUBMIT:
            return Reply("Submitted.", done=True)
        if not command:
            parts = [f"No command. Type one shell command, or {SUBMIT} when done."]
        elif len(command) > MAX_COMMAND_CHARS:
            parts = [
                f"[not run: a command of {len(command)} characters; at most "
                f"{MAX_COMMAND_CHARS} are taken. Write long content to a file in parts.]"
            ]
        else:
            seconds = record.command_seconds
            parts = command_report(_shell(sandbox, record).run(command, timeout=seconds), seconds)
        # Counted from the env's limit where it is lower; the env then ends the episode.
        left = self.turns_told(record.max_turns) - len(transcript) - 1
        if left <= 0:
            own_end = len(transcript) + 1 >= record.max_turns
            return Reply("\n".join([*parts, "[no turns left: the result is checked]"]), own_end)
        return Reply("\n".join([*parts, f"[{left} turn(s) left]"]))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record: ShellRecord = self._records_by_id[problem.id]
        left: dict[str, str] = {}

        def stop() -> None:
            _stop_everything(sandbox)
            if self.reference_run:  # the state the agent left, before any check runs
                left.update(snapshot(sandbox))

        verdict = run_checks(
            sandbox,
            record.checks,
            record.check_script,
            record.check_seconds,
            stop=stop,
            baseline=_BASELINES.pop(sandbox, None),
        )
        if record.tests:
            verdict = _with_tests(verdict, sandbox, record)
        if not self.reference_run:
            return verdict
        backend, options = self.problem_sandbox(problem) or (sandbox.backend, {})
        commands = [t for t in transcript if t.action.strip() != SUBMIT]
        comparison = compare_with_reference(
            backend=backend,
            options=options,
            setup=record.setup,
            commands=record.solution,
            agent_files=left,
            agent_output=command_output(commands[-1].observation) if commands else "",
            command_seconds=record.command_seconds,
        )
        details = {**verdict.details, "reference_run": comparison}
        return Verdict(verdict.parsed, verdict.passed, verdict.total, details=details)


def _with_tests(verdict: Verdict, sandbox: Sandbox, record: ShellRecord) -> Verdict:
    """``verdict`` with one more check per test of the task's pytest suite."""
    suite = ProjectRecord(
        id=record.id,
        prompt="",
        files={},
        tests=record.tests,
        solution={},
        modules=record.modules,
        test_seconds=record.check_seconds,
    )
    tested = grade_project(sandbox, suite, carry_over=False)  # processes are stopped
    details = {**verdict.details, "tests": tested.details.get("failures", [])}
    if "problem" in tested.details:
        details["tests_problem"] = tested.details["problem"]
    return Verdict(
        verdict.parsed,
        verdict.passed + tested.passed,
        verdict.total + tested.total,
        details=details,
    )


def _stop_everything(sandbox: Sandbox) -> None:
    """Nothing of the episode may run while the checks do: a process left behind could
    rewrite what they read, or answer for the agent."""
    _SHELLS.pop(sandbox, None)
    sandbox.stop_processes()


def _prompt(record: ShellRecord, turns: int) -> str:
    return (
        f"{record.instruction.rstrip()}\n\n"
        "You are in a bash shell, in the working directory the task is about. Answer each "
        "turn with one shell command (its output and exit code come back); the shell "
        f"keeps its state between commands. Answer {SUBMIT} when you are done. You have "
        f"{turns} turns, and each command {record.command_seconds:g} s."
    )
