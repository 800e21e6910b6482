"""Every bundled code task: its reference earns 1.0, each plausible wrong answer kept in
its directory (wrong/*.py) earns less, the agent sees an example or two, and the expected
values are the ones scripts/compute_expected.py computes from the references."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import taskgym
from taskgym.envs.code.functions import BUNDLED_FUNCTIONS, FunctionRecord, load_function_tasks
from taskgym.envs.code.stdio import BUNDLED_STDIO, StdioRecord, load_stdio_tasks

BUNDLED: dict[str, list[FunctionRecord] | list[StdioRecord]] = {
    "taskgym/CodeTests-v0": load_function_tasks(BUNDLED_FUNCTIONS),
    "taskgym/CodeStdio-v0": load_stdio_tasks(BUNDLED_STDIO),
}
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compute_expected.py"


def wrong_answers(record: FunctionRecord | StdioRecord) -> list[str]:
    wrong = Path(record.source).parent / "wrong"
    return [path.read_text(encoding="utf-8") for path in sorted(wrong.glob("*.py"))]


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def test_there_are_at_least_sixty_with_examples_and_hidden_tests() -> None:
    records = [r for rs in BUNDLED.values() for r in rs]
    assert len(records) >= 60
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert 1 <= len(record.examples) <= 2, record.id
        assert len(record.tests) >= 4, record.id
        assert Path(record.source).parent.name.endswith(f"-{record.id}"), record.source


@pytest.mark.parametrize("env_id", BUNDLED)
def test_every_reference_passes_and_every_wrong_answer_fails(env_id: str) -> None:
    records = BUNDLED[env_id]
    assert [r.id for r in records if not wrong_answers(r)] == [], "tasks without a wrong answer"
    references = [(r.id, fenced(r.solution)) for r in records]
    wrongs = [(r.id, fenced(code)) for r in records for code in wrong_answers(r)]
    graded = taskgym.grade_many(env_id, references + wrongs, reward="fraction_passed")
    assert [g.task_id for g in graded[: len(references)] if g.reward != 1.0] == []
    assert [g.task_id for g in graded[len(references) :] if g.error or g.reward >= 1.0] == []


def test_the_expected_values_are_the_ones_the_references_compute() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
