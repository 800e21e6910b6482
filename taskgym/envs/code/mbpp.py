"""MBPP-format tasks: InterCode's ``ic_mbpp.json`` (a JSON list of ``query``, ``gold``,
``tests``, ``test_setup_code``, ``task_id``) or the original MBPP JSONL (``text``,
``code``, ``test_list``, ``test_setup_code``, ``task_id``).

The prompt is the task's text and its first ``assert`` (as MBPP prompts show the tests,
so the function's name and arguments are known); every assert is graded, in a process
apart from the candidate (see :func:`taskgym.envs.code.grader.grade_assert_tests`). The
function under test is the one the asserts call.
"""

from __future__ import annotations

import ast
import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from taskgym.core import Execution, Problem, Turn, Verdict
from taskgym.envs.code.grader import grade_assert_tests
from taskgym.envs.common.extract import extract_code
from taskgym.envs.common.records import RecordsTask, deprecated_path, take_deprecated_path
from taskgym.errors import ConfigError
from taskgym.sandboxes import Sandbox

__all__ = ["MBPPTask", "grade_mbpp", "load_mbpp"]

_BUILTINS = set(dir(builtins))


def _function_under_test(tests: list[str], reference: str) -> set[str]:
    """The names the asserts call that the reference defines (some MBPP tasks name their
    function ``sum``, a builtin), else those that are not builtins."""
    called = set()
    for line in tests:
        for node in ast.walk(ast.parse(line)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called.add(node.func.id)
    try:
        tree = ast.parse(reference)
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return (called & defined) or (called - _BUILTINS)


def _imports(source: str) -> str:
    """The reference's import lines: the asserts may use what it imported (``sys``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return "\n".join(
        ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
    )


def load_mbpp(path: str | Path) -> list[dict[str, Any]]:
    """Records as ``task_id``, ``prompt``, ``reference``, ``tests``, ``setup``,
    ``entry_point``; ConfigError for what cannot be read."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the MBPP file {source}: {e}") from e
    try:
        raws = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except json.JSONDecodeError as e:
        raise ConfigError(f"{source}: neither a JSON list nor JSON lines: {e}") from e
    records = [_normalise(raw, f"{source}[{index}]") for index, raw in enumerate(raws)]
    if not records:
        raise ConfigError(f"{source} holds no task")
    return records


def _normalise(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a task is a JSON object")
    prompt = raw.get("query", raw.get("text"))
    reference = raw.get("gold", raw.get("code"))
    tests = raw.get("tests", raw.get("test_list"))
    if not isinstance(prompt, str) or not isinstance(reference, str) or not tests:
        raise ConfigError(f"{where}: needs query/text, gold/code and tests/test_list")
    if not all(isinstance(t, str) for t in tests):
        raise ConfigError(f"{where}: tests must be lines of Python (assert ...)")
    reference = reference.replace("\r\n", "\n")
    try:
        called = _function_under_test(tests, reference)
    except SyntaxError as e:
        raise ConfigError(f"{where}: an assert is not Python: {e}") from e
    if len(called) != 1:
        raise ConfigError(
            f"{where}: the asserts must call one function the reference defines; "
            f"they call {sorted(called) or 'none'}"
        )
    return {
        "task_id": f"mbpp-{raw.get('task_id')}",
        "prompt": prompt,
        "reference": reference,
        "imports": _imports(reference),
        "tests": list(tests),
        "setup": str(raw.get("test_setup_code") or ""),
        "entry_point": called.pop(),
    }


@dataclass(frozen=True)
class MBPPTask(RecordsTask):
    """Write the function an MBPP task asks for; its asserts grade it.

    Args:
        tasks: the MBPP file (InterCode's JSON list, or MBPP's JSONL); ``path=``, its
            old name, is still taken for one release.
        seconds: time for one answer's asserts.
    """

    tasks: str = ""
    seconds: float = 10.0
    path: str | None = deprecated_path()  # the old name of tasks=

    family: ClassVar[str] = "code"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, runs_only_in_zygote=True, hides_tests=True
    )

    def __post_init__(self) -> None:
        take_deprecated_path(self)
        if not self.tasks:
            raise ConfigError("taskgym/MBPP-v0 needs tasks= to an MBPP file (JSON or JSONL)")
        self._keep({r["task_id"]: r for r in load_mbpp(self.tasks)})

    def _problem_for(self, record: dict[str, Any]) -> Problem:
        prompt = (
            f"{record['prompt']}\n\nYour code should pass tests like this one:\n\n"
            f"    {record['tests'][0]}\n\nAnswer with the function in one ```python code block."
        )
        solution = f"```python\n{record['reference']}\n```"
        return Problem(id=record["task_id"], prompt=prompt, solution=(solution,))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record = self._records_by_id[problem.id]
        answer = transcript[-1].action
        if "```" not in answer:
            return Verdict.unparsed("no ``` code block in the answer")
        return grade_mbpp(sandbox, record, extract_code(answer), self.seconds)


def grade_mbpp(
    sandbox: Sandbox, record: dict[str, Any], candidate: str, seconds: float = 10.0
) -> Verdict:
    """The asserts of ``record`` against ``candidate``, after the task's setup code and
    the reference's imports (dataset code, never the candidate's)."""
    return grade_assert_tests(
        sandbox,
        candidate,
        prelude=record["imports"] + "\n" + record["setup"],
        test="\n".join(record["tests"]),
        entry_point=record["entry_point"],
        call="pass",
        seconds=seconds,
    )
