"""Stdin/stdout tasks, competitive-programming style: a whole program reads a case's
input and prints the answer; hidden cases grade it.

A task file is JSONL, one record a line (see ``docs/code-tasks.md``)::

    {"id": "sum-of-pairs", "prompt": "...", "solution": "<a reference program>",
     "examples": [{"stdin": "1 2\\n", "stdout": "3\\n"}],       shown in the prompt
     "tests": [{"stdin": "...", "stdout": "..."}, ...],           hidden, graded
     "compare": "tokens",        "tokens" (whitespace-insensitive, the default) or "exact"
     "case_seconds": 2.0}        time for each case

or a directory of task directories, read in name order, each the same record as a
``task.json`` without ``solution``, which is ``solution.py`` beside it. The bundled tasks
are such directories (``data/stdio/``; ``scripts/compute_expected.py`` computes their
expected output from the references).

Each case runs the program once, in a fresh child of the sandbox's grader process, with
that case's input; only what it prints is read, and it is compared outside the sandbox.
A time-out, a crash or a non-zero exit fails the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from taskgym.core import Execution, Problem, Turn, Verdict
from taskgym.envs.common.extract import extract_code
from taskgym.envs.common.records import (
    FieldTypes,
    RecordsTask,
    check_fields,
    read_records_or_dirs,
)
from taskgym.errors import ConfigError
from taskgym.sandboxes import Limits, Sandbox
from taskgym.sandboxes.zygote import Zygote, zygote_for

__all__ = ["BUNDLED_STDIO", "StdioCase", "StdioRecord", "StdioTestsTask", "grade_program"]

BUNDLED_STDIO = str(Path(__file__).with_name("data") / "stdio")
Compare = Literal["tokens", "exact"]
_REQUIRED: FieldTypes = {"id": str, "prompt": str, "solution": str, "tests": list}
_OPTIONAL: FieldTypes = {"examples": list, "compare": str, "case_seconds": (int, float)}


@dataclass(frozen=True)
class StdioCase:
    stdin: str
    stdout: str


@dataclass(frozen=True)
class StdioRecord:
    id: str
    prompt: str
    solution: str
    tests: tuple[StdioCase, ...]
    examples: tuple[StdioCase, ...] = ()
    compare: Compare = "tokens"
    case_seconds: float = 2.0
    source: str = field(default="", compare=False)


def load_stdio_tasks(path: str | Path) -> list[StdioRecord]:
    """Read and check a task file or directory; ConfigError names the file (and line) and
    the field at fault."""
    return read_records_or_dirs(path, _record, "stdin/stdout")


def _record(raw: dict[str, Any], where: str) -> StdioRecord:
    check_fields(raw, where, _REQUIRED, _OPTIONAL)
    if not raw["tests"]:
        raise ConfigError(f"{where}: 'tests' is empty; a task needs hidden tests")
    compare = raw.get("compare", "tokens")
    if compare not in ("tokens", "exact"):
        raise ConfigError(f"{where}: 'compare' is 'tokens' or 'exact', got {compare!r}")
    return StdioRecord(
        id=raw["id"],
        prompt=raw["prompt"],
        solution=raw["solution"],
        tests=_cases(raw["tests"], f"{where}: tests"),
        examples=_cases(raw.get("examples", []), f"{where}: examples"),
        compare=compare,
        case_seconds=float(raw.get("case_seconds", 2.0)),
        source=where,
    )


def _cases(raw: list[Any], where: str) -> tuple[StdioCase, ...]:
    cases = []
    for index, case in enumerate(raw):
        if (
            not isinstance(case, dict)
            or set(case) != {"stdin", "stdout"}
            or not all(isinstance(v, str) for v in case.values())
        ):
            raise ConfigError(f"{where}[{index}] must be {{'stdin': str, 'stdout': str}}")
        cases.append(StdioCase(case["stdin"], case["stdout"]))
    return tuple(cases)


def outputs_match(expected: str, got: str, compare: Compare) -> bool:
    if compare == "exact":
        return got == expected
    return got.split() == expected.split()


def grade_program(
    zygote: Zygote,
    program: str,
    cases: Sequence[StdioCase],
    *,
    compare: Compare = "tokens",
    limits: Limits | None = None,
) -> Verdict:
    """Run ``program`` once per case and compare what it printed, outside the sandbox."""
    if not cases:
        raise ValueError("grade_program needs at least one case")
    failures: list[dict[str, Any]] = []
    passed = 0
    for index, case in enumerate(cases):
        result = zygote.run(program, stdin=case.stdin, limits=limits)
        run = result.execution
        if result.lost:
            why = "it killed the grader"
        elif run.timed_out:
            why = "ran out of time"
        elif run.exit_code != 0:
            why = f"exited with status {run.exit_code}"
        elif run.stdout_truncated:
            why = "printed too much"
        elif not outputs_match(case.stdout, run.out, compare):
            why = "wrong answer"
        else:
            passed += 1
            continue
        if len(failures) < 20:
            failures.append({"case": index, "why": why})
    return Verdict(parsed=True, passed=passed, total=len(cases), details={"failures": failures})


@dataclass(frozen=True)
class StdioTestsTask(RecordsTask):
    """Write a program that reads stdin and prints the answer; hidden cases grade it.

    Args:
        tasks: a task file (JSONL) or directory (see the module docstring); default: the
            bundled tasks.
    """

    tasks: str | None = None
    family: ClassVar[str] = "code"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, runs_only_in_zygote=True, hides_tests=True
    )

    def __post_init__(self) -> None:
        records = load_stdio_tasks(self.tasks or BUNDLED_STDIO)
        self._keep({r.id: r for r in records})

    def _problem_for(self, record: StdioRecord) -> Problem:
        return Problem(
            id=record.id,
            prompt=_prompt(record),
            solution=(f"```python\n{record.solution.rstrip()}\n```",),
        )

    def near_misses(self, problem: Problem) -> dict[str, tuple[str, ...]]:
        """For the conformance checks: the reference, wrong on the last hidden case's
        input only (a grader must run every case)."""
        last = self._records_by_id[problem.id].tests[-1]
        program = (
            "import io as _io, sys as _sys\n"
            "_stdin = _sys.stdin.buffer.read()\n"
            f"if _stdin == {last.stdin.encode()!r}:\n"
            f"    print({last.stdout + ' near miss'!r})\n"
            "    raise SystemExit\n"
            "_sys.stdin = _io.TextIOWrapper(_io.BytesIO(_stdin))\n"
            f"{self._records_by_id[problem.id].solution.rstrip()}\n"
        )
        return {"the reference, wrong on the last hidden case": (f"```python\n{program}```",)}

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record = self._records_by_id[problem.id]
        answer = transcript[-1].action
        if "```" not in answer:
            return Verdict.unparsed("no ``` code block in the answer", total=len(record.tests))
        seconds = record.case_seconds
        limits = Limits(
            wall_seconds=seconds, cpu_seconds=max(1, int(seconds)), output_bytes=1 << 20
        )
        return grade_program(
            zygote_for(sandbox), extract_code(answer), record.tests,
            compare=record.compare, limits=limits,
        )  # fmt: skip


def _prompt(record: StdioRecord) -> str:
    parts = [record.prompt.rstrip()]
    for number, case in enumerate(record.examples, start=1):
        parts.append(f"Example {number} input:\n{case.stdin.rstrip()}")
        parts.append(f"Example {number} output:\n{case.stdout.rstrip()}")
    parts.append(
        "Answer with a complete Python 3 program in one ```python code block: it reads the "
        "input from standard input and prints the answer."
    )
    return "\n\n".join(parts)
