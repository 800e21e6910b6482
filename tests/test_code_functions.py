"""Function tasks: the task-file format, its clear errors, and episodes graded for real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from taskgym import ConfigError
from taskgym.envs.code.functions import BUNDLED_FUNCTIONS, load_function_tasks

GOOD = {
    "id": "double",
    "prompt": "Write double(x).",
    "entry_point": "double",
    "solution": "def double(x):\n    return 2 * x\n",
    "examples": [{"args": [2], "expected": 4}],
    "tests": [{"args": [3], "expected": 6}, {"args": [-1], "expected": -2}],
}


def write(tmp_path: Path, *records: Any) -> str:
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return str(path)


def test_a_users_task_file_is_played_and_graded(tmp_path: Path) -> None:
    env = gym.make("taskgym/CodeTests-v0", tasks=write(tmp_path, GOOD))
    obs, info = env.reset(seed=0)
    assert info["task_id"] == "double" and "double(2) == 4" in obs
    _, reward, *_ = env.step("```python\ndef double(x):\n    return x + x\n```")
    assert reward == 1.0
    env.reset(seed=0)
    _, reward, _, _, info = env.step("```python\ndef double(x):\n    return 6\n```")
    assert reward == 0.0 and info["verdict"]["passed"] == 1  # fraction_passed would pay 0.5
    env.close()


def test_an_answer_without_a_code_block_is_a_format_failure(tmp_path: Path) -> None:
    env = gym.make("taskgym/CodeTests-v0", tasks=write(tmp_path, GOOD))
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("def double(x): return 2 * x")
    assert (reward, terminated) == (0.0, True)
    assert not info["verdict"]["parsed"] and "code block" in info["verdict"]["details"]["reason"]
    env.close()


def test_the_hidden_tests_are_not_shown_to_the_agent(tmp_path: Path) -> None:
    record = {**GOOD, "tests": [{"args": [123456789], "expected": 246913578}]}
    env = gym.make("taskgym/CodeTests-v0", tasks=write(tmp_path, record))
    obs, _ = env.reset(seed=0)
    assert "123456789" not in obs and "246913578" not in obs
    _, _, _, _, info = env.step("```python\ndef double(x):\n    return 0\n```")
    assert "123456789" not in json.dumps(info)
    env.close()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON .*is this a task file"),
        ("[1, 2]", "a task is a JSON object, not a list"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "entry_point"}),
            "'entry_point' is missing",
        ),
        (json.dumps({**GOOD, "tests": "none"}), "'tests' has the wrong type"),
        (json.dumps({**GOOD, "tests": []}), "'tests' is empty"),
        (json.dumps({**GOOD, "hint": "x"}), r"unknown field\(s\) \['hint'\]"),
        (json.dumps({**GOOD, "tests": [{"args": 3, "expected": 6}]}), "'args' is a list"),
        (json.dumps({**GOOD, "tests": [{"input": [3]}]}), r"tests\[0\] must be"),
    ],
)
def test_bad_task_files_name_the_line_and_the_field(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, GOOD, line)
    with pytest.raises(ConfigError, match=rf"tasks.jsonl:2: .*{message}"):
        load_function_tasks(path)


def test_duplicate_ids_missing_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="used twice"):
        load_function_tasks(write(tmp_path, GOOD, GOOD))
    with pytest.raises(ConfigError, match="cannot read the task file"):
        load_function_tasks(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="holds no task"):
        load_function_tasks(write(tmp_path, ""))
    with pytest.raises(ConfigError, match="bad options for task"):
        gym.make("taskgym/CodeTests-v0", tasks=str(tmp_path / "missing.jsonl"))


def task_dir(root: Path, name: str, record: dict[str, Any]) -> Path:
    """A task directory: the record's fields in task.json, its solution in solution.py."""
    directory = root / name
    directory.mkdir(parents=True)
    fields = {k: v for k, v in record.items() if k != "solution"}
    (directory / "task.json").write_text(json.dumps(fields))
    (directory / "solution.py").write_text(record["solution"])
    return directory


def test_task_directories_are_read_in_name_order(tmp_path: Path) -> None:
    task_dir(tmp_path, "2-double", GOOD)
    task_dir(tmp_path, "1-triple", {**GOOD, "id": "triple", "entry_point": "triple"})
    records = load_function_tasks(tmp_path)
    assert [r.id for r in records] == ["triple", "double"]
    assert records[1].solution == GOOD["solution"]
    assert records[1] == load_function_tasks(write(tmp_path, GOOD))[0]
    assert [r.id for r in load_function_tasks(tmp_path / "2-double")] == ["double"]


def test_bad_task_directories_name_the_file_at_fault(tmp_path: Path) -> None:
    (task_dir(tmp_path, "a", GOOD) / "solution.py").unlink()
    with pytest.raises(ConfigError, match=r"a: solution.py is missing"):
        load_function_tasks(tmp_path / "a")
    directory = task_dir(tmp_path, "b", GOOD)
    (directory / "task.json").write_text(json.dumps(GOOD))
    with pytest.raises(ConfigError, match=r"b/task.json: the reference is solution.py"):
        load_function_tasks(directory)
    no_expected = {k: v for k, v in GOOD.items() if k != "solution"} | {"tests": [{"args": [3]}]}
    (directory / "task.json").write_text(json.dumps(no_expected))
    with pytest.raises(ConfigError, match=r"b/task.json: tests\[0\] must be"):
        load_function_tasks(directory)
    task_dir(tmp_path / "two", "x", GOOD)
    task_dir(tmp_path / "two", "y", GOOD)
    with pytest.raises(ConfigError, match=r"y/task.json: the id 'double' is also"):
        load_function_tasks(tmp_path / "two")


def test_bundled_tasks_have_examples_and_hidden_tests() -> None:
    records = load_function_tasks(BUNDLED_FUNCTIONS)
    assert len(records) >= 10
    for record in records:
        assert record.examples and len(record.tests) >= 4, record.id


def test_unknown_task_ids_list_the_known_ones(tmp_path: Path) -> None:
    from taskgym import UnknownTaskIdError

    env = gym.make("taskgym/CodeTests-v0", tasks=write(tmp_path, GOOD))
    with pytest.raises(UnknownTaskIdError, match=r"this env has \['double'\]"):
        env.reset(options={"task_id": "triple"})
    env.close()


def test_feedback_mode_shows_visible_examples_and_never_hidden_tests(tmp_path: Path) -> None:
    record = {**GOOD, "tests": [{"args": [987654321], "expected": 1975308642}]}
    env = gym.make(
        "taskgym/CodeTestsRetry-v0", tasks=write(tmp_path, record)
    )  # 3 attempts, 0.1 less reward each extra one
    env.reset(seed=0)
    observations = []
    obs, reward, terminated, _, _ = env.step("```python\ndef double(x):\n    return x\n```")
    observations.append(obs)
    assert "Example double(2): returned 2; expected 4." in obs
    assert "1 of 1 examples failed" in obs and "2 attempt(s) left" in obs
    assert "hidden" not in obs  # the hidden tests have not run: they grade the last answer
    assert (reward, terminated) == (0.0, False)
    obs, *_ = env.step("no code at all")
    observations.append(obs)
    assert "No ```python code block" in obs
    obs, reward, terminated, _, info = env.step("```python\ndef double(x):\n    return 2 * x\n```")
    assert terminated and obs.startswith("All examples passed")
    assert reward == pytest.approx(0.8) and info["verdict"]["solved"]
    everything_shown = " ".join(observations) + json.dumps(info)
    assert "987654321" not in everything_shown and "1975308642" not in everything_shown
    env.close()


def test_feedback_mode_says_why_the_code_did_not_run(tmp_path: Path) -> None:
    env = gym.make("taskgym/CodeTestsRetry-v0", tasks=write(tmp_path, GOOD))
    env.reset(seed=0)
    obs, *_ = env.step("```python\ndef double(x)\n    return 2 * x\n```")
    assert "the solution did not load: SyntaxError" in obs and "1 of 1 examples failed" in obs
    env.close()


def test_feedback_mode_ends_at_an_answer_that_passes_the_examples(tmp_path: Path) -> None:
    # It passes the example (2 -> 4) but not the hidden tests: final, and it earns 0.
    env = gym.make("taskgym/CodeTestsRetry-v0", tasks=write(tmp_path, GOOD))
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step("```python\ndef double(x):\n    return 4\n```")
    assert terminated and obs.startswith("All examples passed") and reward == 0.0
    assert info["verdict"]["passed"] == 0 and info["turn"] == 1
    env.close()
    # Without examples there is nothing to try an answer on: the first one is final.
    no_examples = {k: v for k, v in GOOD.items() if k != "examples"}
    env = gym.make("taskgym/CodeTestsRetry-v0", tasks=write(tmp_path, no_examples))
    env.reset(seed=0)
    obs, reward, terminated, *_ = env.step("```python\ndef double(x):\n    return x + x\n```")
    assert terminated and obs.startswith("Submitted") and reward == 1.0
    env.close()


def test_feedback_mode_ends_after_the_last_wrong_attempt(tmp_path: Path) -> None:
    env = gym.make("taskgym/CodeTests-v0", tasks=write(tmp_path, GOOD), attempts=2)
    env.reset(seed=0)
    env.step("```python\ndef double(x):\n    return 0\n```")
    obs, reward, terminated, truncated, _ = env.step("```python\ndef double(x):\n    return 1\n```")
    assert "No attempts left" in obs and (reward, terminated, truncated) == (0.0, True, False)
    with pytest.raises(ConfigError, match="attempts must be an int >= 1"):
        gym.make("taskgym/CodeTests-v0", attempts=0)
    env.close()
