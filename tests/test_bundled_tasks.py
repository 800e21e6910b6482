"""Every bundled code task: its reference earns 1.0, a plausible wrong answer (kept in
tests/data/wrong_answers.jsonl, written with the tasks by scripts/author_function_tasks.py)
earns less, and the agent sees an example or two."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import taskgym
from taskgym.envs.code.functions import BUNDLED_FUNCTIONS
from taskgym.envs.code.stdio import BUNDLED_STDIO


def read_jsonl(path: str | Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


WRONG = {
    item["id"]: item["wrong"]
    for item in read_jsonl(Path(__file__).parent / "data" / "wrong_answers.jsonl")
}
BUNDLED = {
    "taskgym/CodeTests-v0": read_jsonl(BUNDLED_FUNCTIONS),
    "taskgym/CodeStdio-v0": read_jsonl(BUNDLED_STDIO),
}


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def test_there_are_at_least_sixty_with_examples_and_hidden_tests() -> None:
    records = [r for rs in BUNDLED.values() for r in rs]
    assert len(records) >= 60
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert 1 <= len(record["examples"]) <= 2, record["id"]
        assert len(record["tests"]) >= 4, record["id"]


@pytest.mark.parametrize("env_id", BUNDLED)
def test_every_reference_passes_and_every_wrong_answer_fails(env_id: str) -> None:
    records = BUNDLED[env_id]
    assert {r["id"] for r in records} <= set(WRONG), "a bundled task has no wrong answer"
    pairs = [(r["id"], fenced(r["solution"])) for r in records]
    pairs += [(r["id"], fenced(WRONG[r["id"]])) for r in records]
    graded = taskgym.grade_many(env_id, pairs, reward="fraction_passed")
    references, wrongs = graded[: len(records)], graded[len(records) :]
    assert [g.task_id for g in references if g.reward != 1.0] == []
    assert [g.task_id for g in wrongs if g.error or g.reward >= 1.0] == []
