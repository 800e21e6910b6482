"""HumanEval-format tasks (``HumanEval.jsonl`` or ``.jsonl.gz``: ``task_id``, ``prompt``,
``canonical_solution``, ``test`` defining ``check(candidate)``, ``entry_point``).

The agent reads the prompt (a signature and docstring) and answers with the whole
function in a ```python block. Grading runs the record's ``check`` in a process that
holds no candidate code, and the candidate in one that never holds the tests (see
:func:`taskgym.envs.code.grader.grade_assert_tests`); the prompt is loaded before the
answer, so its imports and helpers are there as in the original harness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from taskgym.core import Execution, Problem, Turn, Verdict
from taskgym.envs.code.grader import grade_assert_tests
from taskgym.envs.common.extract import extract_code
from taskgym.envs.common.records import RecordsTask, deprecated_path, take_deprecated_path
from taskgym.errors import ConfigError
from taskgym.jsonl import read_json_objects
from taskgym.sandboxes import Sandbox

__all__ = ["HumanEvalTask", "load_humaneval"]

_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def load_humaneval(path: str | Path) -> list[dict[str, str]]:
    records = []
    for where, record in read_json_objects(path, what="HumanEval file", item="task"):
        missing = [f for f in _FIELDS if not isinstance(record.get(f), str)]
        if missing:
            raise ConfigError(f"{where}: missing or not text: {missing}")
        records.append({f: record[f] for f in _FIELDS})
    if not records:
        raise ConfigError(f"{path} holds no task")
    return records


@dataclass(frozen=True)
class HumanEvalTask(RecordsTask):
    """Complete a HumanEval function; its ``check`` grades it.

    Args:
        tasks: the HumanEval file (``HumanEval.jsonl`` or ``.jsonl.gz``); ``path=``, its
            old name, is still taken for one release.
        seconds: time for one answer's tests.
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
            raise ConfigError(
                "taskgym/HumanEval-v0 needs tasks= to HumanEval.jsonl(.gz) "
                "(from github.com/openai/human-eval, data/HumanEval.jsonl.gz)"
            )
        records = load_humaneval(self.tasks)
        self._keep({r["task_id"]: r for r in records})

    def _problem_for(self, record: dict[str, str]) -> Problem:
        prompt = (
            "Complete this Python function. Answer with the whole function (and any imports "
            f"it needs) in one ```python code block.\n\n```python\n{record['prompt']}```"
        )
        solution = f"```python\n{record['prompt']}{record['canonical_solution']}```"
        return Problem(id=record["task_id"], prompt=prompt, solution=(solution,))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record = self._records_by_id[problem.id]
        answer = transcript[-1].action
        if "```" not in answer:
            return Verdict.unparsed("no ``` code block in the answer")
        return grade_assert_tests(
            sandbox,
            extract_code(answer),
            prelude=record["prompt"],
            test=record["test"],
            entry_point=record["entry_point"],
            call=f"check({record['entry_point']})",
            seconds=self.seconds,
        )
