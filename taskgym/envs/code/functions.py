"""Function tasks: write a Python function; hidden input/expected-output cases grade it.

A task file is JSONL, one record a line (documented in ``docs/code-tasks.md``)::

    {"id": "reverse-words",                 unique in the file
     "prompt": "Write reverse_words(s) ...", what the agent reads
     "entry_point": "reverse_words",        the function the tests call
     "solution": "def reverse_words(s): ...",  a reference that passes every test
     "examples": [{"args": ["a b"], "expected": "b a"}],   shown in the prompt
     "tests": [{"args": ["x y z"], "expected": "z y x"}, ...],  hidden, graded
     "wall_seconds": 5.0}                   optional, the time for all tests together

The agent answers with the function in a fenced code block (```python ... ```); an
answer without one is a format failure in the verdict, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from taskgym.core import Problem, Reply, Turn, Verdict
from taskgym.envs.code.grader import FunctionCase, grade_function
from taskgym.envs.code.records import FieldTypes, RecordsTask, check_fields, read_records
from taskgym.envs.math.arithmetic import extract_code
from taskgym.errors import ConfigError
from taskgym.sandboxes import Limits, Sandbox
from taskgym.sandboxes.zygote import zygote_for

__all__ = ["BUNDLED_FUNCTIONS", "FunctionRecord", "FunctionTestsTask", "load_function_tasks"]

BUNDLED_FUNCTIONS = str(Path(__file__).with_name("data") / "functions.jsonl")
_REQUIRED: FieldTypes = {
    "id": str,
    "prompt": str,
    "entry_point": str,
    "solution": str,
    "tests": list,
}
_OPTIONAL: FieldTypes = {"examples": list, "wall_seconds": (int, float)}


@dataclass(frozen=True)
class FunctionRecord:
    """One function task, as read from a task file."""

    id: str
    prompt: str
    entry_point: str
    solution: str
    tests: tuple[FunctionCase, ...]
    examples: tuple[FunctionCase, ...] = ()
    wall_seconds: float = 5.0


def load_function_tasks(path: str | Path) -> list[FunctionRecord]:
    """Read and check a task file; ConfigError names the file, line and field at fault."""
    return [_record(raw, where) for where, raw in read_records(path)]


def _record(raw: dict[str, Any], where: str) -> FunctionRecord:
    check_fields(raw, where, _REQUIRED, _OPTIONAL)
    if not raw["tests"]:
        raise ConfigError(f"{where}: 'tests' is empty; a task needs hidden tests")
    return FunctionRecord(
        id=raw["id"],
        prompt=raw["prompt"],
        entry_point=raw["entry_point"],
        solution=raw["solution"],
        tests=_cases(raw["tests"], f"{where}: tests"),
        examples=_cases(raw.get("examples", []), f"{where}: examples"),
        wall_seconds=float(raw.get("wall_seconds", 5.0)),
    )


def _cases(raw: list[Any], where: str) -> tuple[FunctionCase, ...]:
    cases = []
    for index, case in enumerate(raw):
        if not isinstance(case, dict) or set(case) != {"args", "expected"}:
            raise ConfigError(f"{where}[{index}] must be {{'args': [...], 'expected': ...}}")
        if not isinstance(case["args"], list):
            raise ConfigError(f"{where}[{index}]: 'args' is a list of positional arguments")
        cases.append(FunctionCase(args=tuple(case["args"]), expected=case["expected"]))
    return tuple(cases)


@dataclass(frozen=True)
class FunctionTestsTask(RecordsTask):
    """Write the function a record asks for; its hidden tests grade it.

    Args:
        tasks: a task file (JSONL, see the module docstring); default: the bundled tasks.
        attempts: how many answers the agent may give. After a wrong one it is told which
            visible examples failed (with what its function returned) and how many hidden
            tests failed, never which.
    """

    tasks: str | None = None
    attempts: int = 1
    family: ClassVar[str] = "code"
    needs_sandbox: ClassVar[bool] = True
    runs_only_in_zygote: ClassVar[bool] = True

    @property
    def multi_turn(self) -> bool:
        return self.attempts > 1

    @property
    def default_max_turns(self) -> int:
        return self.attempts

    def __post_init__(self) -> None:
        if (
            isinstance(self.attempts, bool)
            or not isinstance(self.attempts, int)
            or self.attempts < 1
        ):
            raise ValueError(f"attempts must be a positive int, got {self.attempts!r}")
        records = load_function_tasks(self.tasks or BUNDLED_FUNCTIONS)
        self._keep({r.id: r for r in records})

    def _problem_for(self, record: FunctionRecord) -> Problem:
        return Problem(
            id=record.id,
            prompt=_prompt(record),
            solution=(f"```python\n{record.solution.rstrip()}\n```",),
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return self._grade(self._records_by_id[problem.id], transcript[-1].action, sandbox)

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        record = self._records_by_id[problem.id]
        hidden = self._grade(record, action, sandbox)
        if hidden.solved:
            return Reply("All tests passed.", done=True)
        left = self.attempts - len(transcript) - 1
        feedback = self._feedback(record, action, hidden, sandbox)
        if left <= 0:
            return Reply(f"{feedback}\nNo attempts left.", done=True)
        return Reply(f"{feedback}\n{left} attempt(s) left; answer again.")

    def _grade(
        self, record: FunctionRecord, answer: str, sandbox: Sandbox, *, visible: bool = False
    ) -> Verdict:
        cases = record.examples if visible else record.tests
        if "```" not in answer:
            return Verdict.unparsed("no ``` code block in the answer", total=len(cases))
        seconds = record.wall_seconds
        return grade_function(
            zygote_for(sandbox),
            extract_code(answer),
            record.entry_point,
            cases,
            limits=Limits(wall_seconds=seconds, cpu_seconds=max(1, int(seconds))),
            show_values=visible,
        )

    def _feedback(
        self, record: FunctionRecord, answer: str, hidden: Verdict, sandbox: Sandbox
    ) -> str:
        """What the agent may learn from a wrong answer: the visible examples it got wrong
        (with what it returned), and how many hidden tests failed, never which."""
        if not hidden.parsed:
            return "No ```python code block was found in the answer."
        lines = []
        if record.examples:
            shown = self._grade(record, answer, sandbox, visible=True)
            for failure in shown.details.get("failures", []):
                case = record.examples[failure["case"]]
                call = f"{record.entry_point}({', '.join(json.dumps(a) for a in case.args)})"
                outcome = f"returned {failure['got']}" if "got" in failure else failure["why"]
                lines.append(f"Example {call}: {outcome}; expected {json.dumps(case.expected)}.")
        lines.append(f"{hidden.total - hidden.passed} of {hidden.total} hidden tests failed.")
        return "\n".join(lines)


def _prompt(record: FunctionRecord) -> str:
    parts = [record.prompt.rstrip()]
    if record.examples:
        parts.append("Examples:")
        for case in record.examples:
            call = ", ".join(json.dumps(a) for a in case.args)
            parts.append(f"    {record.entry_point}({call}) == {json.dumps(case.expected)}")
    parts.append(
        f"Answer with the function `{record.entry_point}` in one ```python code block. "
        "Hidden tests will call it."
    )
    return "\n\n".join(parts)
