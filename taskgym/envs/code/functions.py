"""Function tasks: write a Python function; hidden input/expected-output cases grade it.

A task file is JSONL, one record a line (documented in ``docs/code-tasks.md``)::

    {"id": "reverse-words",                 unique in the file
     "prompt": "Write reverse_words(s) ...", what the agent reads
     "entry_point": "reverse_words",        the function the tests call
     "solution": "def reverse_words(s): ...",  a reference that passes every test
     "examples": [{"args": ["a b"], "expected": "b a"}],   shown in the prompt
     "tests": [{"args": ["x y z"], "expected": "z y x"}, ...],  hidden, graded
     "wall_seconds": 5.0}                   optional, the time for all tests together

or a directory of task directories, read in name order, each the same record as a
``task.json`` without ``solution``, which is ``solution.py`` beside it. The bundled tasks
are such directories (``data/functions/``; ``scripts/compute_expected.py`` computes their
expected values from the references).

The agent answers with the function in a fenced code block (```python ... ```); an
answer without one is a format failure in the verdict, not an error.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from taskgym.core import Execution, Problem, Reply, Tool, Turn, Verdict
from taskgym.envs.code.grader import FunctionCase, grade_function
from taskgym.envs.common.extract import extract_code
from taskgym.envs.common.records import (
    FieldTypes,
    RecordsTask,
    check_fields,
    read_records_or_dirs,
)
from taskgym.envs.common.turns import TurnsTold
from taskgym.errors import ConfigError
from taskgym.sandboxes import ExecResult, Limits, Sandbox
from taskgym.sandboxes.zygote import zygote_for

__all__ = ["BUNDLED_FUNCTIONS", "FunctionRecord", "FunctionTestsTask", "load_function_tasks"]

BUNDLED_FUNCTIONS = str(Path(__file__).with_name("data") / "functions")
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
    """One function task, as read from a task file or directory (``source``)."""

    id: str
    prompt: str
    entry_point: str
    solution: str
    tests: tuple[FunctionCase, ...]
    examples: tuple[FunctionCase, ...] = ()
    wall_seconds: float = 5.0
    source: str = field(default="", compare=False)


def load_function_tasks(path: str | Path) -> list[FunctionRecord]:
    """Read and check a task file or directory; ConfigError names the file (and line) and
    the field at fault."""
    return read_records_or_dirs(path, _record, "function")


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
        source=where,
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
class FunctionTestsTask(TurnsTold, RecordsTask):
    """Write the function a record asks for; its hidden tests grade it.

    Args:
        tasks: a task file (JSONL) or directory (see the module docstring); default: the
            bundled tasks.
        attempts: how many answers the agent may give. Each is tried on the visible
            examples only, and the agent is told which failed (with what its function
            returned); an answer that passes them all (or any answer, for a task without
            examples) is final. The hidden tests grade the final answer once, after the
            agent's last turn, so nothing of them can reach what it reads.
        runs: tool mode: how many times the agent may run code of its own in the sandbox
            (an action ``<run>code</run>``) before it submits; each run is a fresh Python
            process whose exit code, stdout and stderr come back. The first action that is
            not a run is the submission. Not with ``attempts``.
    """

    tasks: str | None = None
    attempts: int = 1
    runs: int = 0
    family: ClassVar[str] = "code"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, runs_only_in_zygote=True, hides_tests=True
    )

    @property
    def multi_turn(self) -> bool:
        return self.attempts > 1 or self.runs > 0

    @property
    def default_max_turns(self) -> int:
        return self.runs + 1 if self.runs else self.attempts

    @property
    def _runs_told(self) -> int:
        """The runs the agent is told of: the submission takes a turn too."""
        return self.turns_told(self.runs + 1) - 1

    def __post_init__(self) -> None:
        for name, least in (("attempts", 1), ("runs", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
        if self.runs and self.attempts > 1:
            raise ValueError("runs (tool mode) and attempts (feedback mode) do not combine")
        records = load_function_tasks(self.tasks or BUNDLED_FUNCTIONS)
        self._keep({r.id: r for r in records})

    def _problem_for(self, record: FunctionRecord) -> Problem:
        submission = f"```python\n{record.solution.rstrip()}\n```"
        if not self.runs:
            prompt = _prompt(record, attempts=self.turns_told(self.attempts))
            return Problem(id=record.id, prompt=prompt, solution=(submission,))
        # The reference tries itself on the first example before it submits.
        trial = record.solution.rstrip()
        if record.examples:
            args = ", ".join(repr(a) for a in record.examples[0].args)
            trial += f"\nprint({record.entry_point}({args}))"
        return Problem(
            id=record.id,
            prompt=_prompt(record, runs=self._runs_told),
            solution=(f"<run>\n{trial}\n</run>", submission),
        )

    def near_misses(self, problem: Problem) -> dict[str, tuple[str, ...]]:
        """For the conformance checks: the reference, wrong on the last hidden test's
        arguments only (a grader must run every test)."""
        record = self._records_by_id[problem.id]
        last, name = record.tests[-1], record.entry_point
        code = (
            f"{record.solution.rstrip()}\n\n\n_taskgym_reference = {name}\n\n\n"
            f"def {name}(*args):\n"
            f"    if list(args) == {list(last.args)!r}:\n"
            f"        return {f'not {last.expected!r}'!r}\n"
            "    return _taskgym_reference(*args)\n"
        )
        wrong = f"```python\n{code}```"
        return {"the reference, wrong on the last hidden test": (*problem.solution[:-1], wrong)}

    def tools(self) -> tuple[Tool, ...]:
        """Tool mode: run code, or submit. (Retry mode is plain text: the answer.)"""
        if not self.runs:
            return ()
        return (
            Tool(
                "run_code",
                f"Run Python code in the sandbox and see what it prints ({self._runs_told} runs "
                "at most); it does not submit.",
                {"code": "Python source"},
                lambda args: f"<run>\n{args['code']}\n</run>",
            ),
            Tool(
                "submit",
                "Submit the function; the hidden tests grade it and the episode ends.",
                {"code": "Python source defining the function"},
                lambda args: f"```python\n{args['code']}\n```",
            ),
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record = self._records_by_id[problem.id]
        submission = transcript[-1].action
        if self.runs and _run_code(submission) is not None:
            return Verdict.unparsed(
                "the turns ran out before a submission", total=len(record.tests)
            )
        return self._grade(record, submission, sandbox)

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        record = self._records_by_id[problem.id]
        if self.runs:
            return self._tool_turn(record, transcript, action, sandbox)
        return self._attempt_turn(record, transcript, action, sandbox)

    def _attempt_turn(
        self, record: FunctionRecord, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        """Feedback mode: the answer runs on the visible examples only. The hidden tests
        run in ``check``, after the last turn: run before a later attempt, they could
        leave their inputs (in /tmp, a process) for that attempt's code to show."""
        if "```" not in action:
            feedback = "No ```python code block was found in the answer."
        elif not record.examples:
            return Reply("Submitted: the hidden tests grade this answer.", done=True)
        else:
            shown = self._grade(record, action, sandbox, visible=True)
            if shown.solved:
                return Reply("All examples passed: the hidden tests grade this answer.", done=True)
            feedback = _feedback(record, shown)
        left = self.turns_told(self.attempts) - len(transcript) - 1
        if left <= 0:  # at the env's lower limit, the env ends the episode
            last = len(transcript) + 1 >= self.attempts
            return Reply(f"{feedback}\nNo attempts left.", done=last)
        return Reply(f"{feedback}\n{left} attempt(s) left; answer again.")

    def _tool_turn(
        self, record: FunctionRecord, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        """Tool mode: run the agent's code and show what it did, or take the submission."""
        code = _run_code(action)
        if code is None:
            return Reply("Submitted.", done=True)
        used = sum(_run_code(turn.action) is not None for turn in transcript)
        runs = self._runs_told
        if used >= runs:
            return Reply(f"No runs left (you had {runs}); submit your function now.")
        seconds = record.wall_seconds
        limits = Limits(wall_seconds=seconds, cpu_seconds=max(1, int(seconds)))
        result = zygote_for(sandbox).run(code, limits=limits).execution
        return Reply(f"{_describe_run(result)}\n[{runs - used - 1} run(s) left]")

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


def _feedback(record: FunctionRecord, shown: Verdict) -> str:
    """What the agent learns from an answer that failed a visible example: which ones,
    with what its function returned, and why its code did not run if it did not."""
    lines = []
    if "problem" in shown.details:
        lines.append(f"Running the examples: {shown.details['problem']}.")
    for failure in shown.details.get("failures", []):
        case = record.examples[failure["case"]]
        call = f"{record.entry_point}({', '.join(json.dumps(a) for a in case.args)})"
        outcome = f"returned {failure['got']}" if "got" in failure else failure["why"]
        lines.append(f"Example {call}: {outcome}; expected {json.dumps(case.expected)}.")
    lines.append(f"{shown.total - shown.passed} of {shown.total} examples failed.")
    return "\n".join(lines)


_RUN_OUTPUT_CHARS = 2000


def _run_code(action: str) -> str | None:
    """The code of a ``<run>...</run>`` action (a fence inside is allowed), else None."""
    start = action.find("<run>")
    if start == -1:
        return None
    end = action.find("</run>", start)
    body = action[start + len("<run>") : end if end != -1 else len(action)]
    return extract_code(body) if "```" in body else body


def _describe_run(result: ExecResult) -> str:
    """What the agent sees of its run: exit code, then stdout and stderr, each cut in
    the middle when long."""

    def cut(text: str) -> str:
        if len(text) <= _RUN_OUTPUT_CHARS:
            return text
        half = _RUN_OUTPUT_CHARS // 2
        return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"

    code = result.exit_code
    if result.timed_out or code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        status = "timed out (the run's time limit stopped it)"
    elif code < 0:
        status = f"killed by signal {-code} ({signal.strsignal(-code) or 'unknown'})"
    else:
        status = f"exit code {code}"
    return f"{status}\n--- stdout ---\n{cut(result.out)}\n--- stderr ---\n{cut(result.err)}"


def _prompt(record: FunctionRecord, runs: int = 0, attempts: int = 1) -> str:
    parts = [record.prompt.rstrip()]
    if record.examples:
        parts.append("Examples:")
        for case in record.examples:
            call = ", ".join(json.dumps(a) for a in case.args)
            parts.append(f"    {record.entry_point}({call}) == {json.dumps(case.expected)}")
    if runs:
        parts.append(
            f"Before you answer you may run Python code up to {runs} time(s): reply with "
            "<run>your code</run> and you will see its exit code, stdout and stderr. Each run "
            "is a fresh process. Any reply without <run> is your final answer."
        )
    parts.append(
        f"Answer with the function `{record.entry_point}` in one ```python code block. "
        "Hidden tests will call it."
    )
    if attempts > 1:
        parts.append(
            f"You have {attempts} attempts: an answer that fails an example is shown what "
            "went wrong and may answer again."
        )
    return "\n\n".join(parts)
