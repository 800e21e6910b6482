"""Stdin/stdout tasks: graded by what the program prints, compared outside the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym import ConfigError, Limits
from taskgym.envs.code.stdio import StdioCase, grade_program, load_stdio_tasks
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.zygote import Zygote

CASES = [StdioCase("1 2\n", "3\n"), StdioCase("10 -4\n", "6\n"), StdioCase("0 5\n", "5\n")]
RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture
def zygote(real_box: Sandbox) -> Iterator[Zygote]:
    with Zygote(real_box) as z:
        yield z


def failures(zygote: Zygote, program: str, **kwargs: object) -> list[str]:
    verdict = grade_program(zygote, program, CASES, limits=Limits(wall_seconds=1.0), **kwargs)  # type: ignore[arg-type]
    return [f["why"] for f in verdict.details["failures"]]


def test_a_right_program_passes_and_whitespace_does_not_matter_by_default(zygote: Zygote) -> None:
    assert failures(zygote, RIGHT) == []
    assert failures(zygote, "a, b = map(int, input().split())\nprint(' ', a + b, '\\n\\n')\n") == []
    assert (
        len(
            failures(
                zygote, "a, b = map(int, input().split())\nprint(f' {a + b}')\n", compare="exact"
            )
        )
        == 3
    )


@pytest.mark.parametrize(
    ("program", "why"),
    [
        ("print(42)\n", "wrong answer"),
        ("import sys\nprint(3)\nsys.exit(1)\n", "exited with status 1"),
        ("while True:\n    pass\n", "ran out of time"),
        ("raise ValueError('x')\n", "exited with status 1"),
        ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", "it killed the grader"),
        ("print('x' * 10**7)\n", "printed too much"),
        ("import os\nos.write(3, b'3')\n", "exited with status 1"),
    ],
)
def test_wrong_crashing_and_hostile_programs_fail_every_case(
    zygote: Zygote, program: str, why: str
) -> None:
    assert failures(zygote, program) == [why] * len(CASES)
    assert failures(zygote, RIGHT) == []  # and the grader is unharmed


def test_bundled_stdio_tasks_play_with_the_oracle_and_refuse_empty_answers() -> None:
    env = gym.make("taskgym/CodeStdio-v0")
    obs, info = env.reset(options={"task_id": "balanced-brackets"})
    assert "Example 1 input" in obs
    _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    assert reward == 1.0
    env.reset(options={"task_id": "balanced-brackets"})
    _, reward, _, _, info = env.step("print('YES')")
    assert reward == 0.0 and not info["verdict"]["parsed"]  # no code block
    env.close()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"compare": "fuzzy"}, "'compare' is 'tokens' or 'exact'"),
        ({"tests": [{"stdin": "1"}]}, r"tests\[0\] must be"),
        ({"tests": [{"stdin": 1, "stdout": "2"}]}, r"tests\[0\] must be"),
        ({"tests": []}, "'tests' is empty"),
    ],
)
def test_bad_stdio_files_name_the_line_and_the_field(
    tmp_path: Path, record: dict[str, object], message: str
) -> None:
    base = {
        "id": "t",
        "prompt": "p",
        "solution": RIGHT,
        "tests": [{"stdin": "1 2\n", "stdout": "3\n"}],
    }
    path = tmp_path / "stdio.jsonl"
    path.write_text(json.dumps({**base, **record}) + "\n")
    with pytest.raises(ConfigError, match=rf"stdio.jsonl:1: .*{message}"):
        load_stdio_tasks(path)
