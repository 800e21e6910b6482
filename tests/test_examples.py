"""The examples run as documented, and so does each Python block of CONTRIBUTING.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONTRIBUTING = EXAMPLES.parent / "CONTRIBUTING.md"


def _contributing_blocks() -> list[pytest.ParameterSet]:
    """Each ```python block of CONTRIBUTING.md, named after the heading above it."""
    blocks = []
    heading = ""
    for part in re.split(
        r"^(#+ .*|```python\n(?:.*\n)*?```)$", CONTRIBUTING.read_text(), flags=re.M
    ):
        if part.startswith("#"):
            heading = part.lstrip("# ").lower().replace(" ", "-")
        elif part.startswith("```python"):
            blocks.append(
                pytest.param(part.removeprefix("```python\n").removesuffix("```"), id=heading)
            )
    return blocks


def test_contributing_shows_each_kind_of_plugin() -> None:
    names = {block.id for block in _contributing_blocks()}
    assert {"a-reward", "a-sandbox-backend", "an-executor", "an-agent"} <= names, names


@pytest.mark.parametrize("code", _contributing_blocks())
def test_contributing_examples_run(code: str) -> None:
    # A fresh interpreter each: the names they register stay out of this process.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", ["quickstart.py", "custom_task.py"])
def test_example_runs(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr
    if script == "quickstart.py":
        assert "mean reward 1.00" in result.stdout
    else:
        assert "conformance checks passed" in result.stdout


def test_the_verl_example_writes_rows_verl_reads(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow comes with datasets, in the test extra")
    import pandas as pd

    from taskgym.trainers import verl_compute_score

    out = tmp_path / "train.parquet"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "verl_reward.py"), "--count", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    row = pd.read_parquet(out).iloc[0]
    score = verl_compute_score(
        data_source=row["data_source"],
        solution_str="no answer",
        ground_truth=row["reward_model"]["ground_truth"],
        extra_info=dict(row["extra_info"]),
    )
    assert score == 0.0


def test_the_trl_example_says_what_it_needs_without_trl() -> None:
    try:
        import trl  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("trl is installed here: the example would train")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "trl_grpo.py"), "--model", "tiny"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "pip install 'taskgym[trl]'" in result.stderr


def _run_example(script: str, *args: str, timeout: int = 600) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _require_trl() -> None:
    from tests.conftest import require_module

    require_module("trl", "trl")


def _require_skyrl() -> None:
    from tests.conftest import require_module

    require_module("skyrl_gym", "skyrl")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "env"),
    [
        ("trl_grpo.py", "taskgym/ArithmeticEasy-v0"),
        ("trl_grpo.py", "taskgym/MathGen-v0"),  # made from seeds: rows by count
        ("trl_grpo.py", "taskgym/CodeTests-v0"),  # a fixed set: its first rows
        ("trl_multi_turn.py", "taskgym/ArithmeticRetry-v0"),
    ],
)
def test_the_trl_examples_train_as_shipped_on_a_cpu(script: str, env: str, tmp_path: Path) -> None:
    _require_trl()
    out = _run_example(script, "--env", env, "--steps", "1", "--count", "8", "--out", str(tmp_path))
    assert f"{env}: 1 steps" in out


@pytest.mark.slow
def test_the_chat_rollouts_example_records_conversations(tmp_path: Path) -> None:
    _require_trl()
    out_file = tmp_path / "rollouts.jsonl"
    out = _run_example("chat_rollouts.py", "--episodes", "3", "--out", str(out_file))
    assert "3 episodes" in out
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert all(r["messages"][0]["role"] == "system" for r in records)
    assert all(len(r["rewards"]) == len(r["actions"]) == r["turns"] for r in records)


def test_the_skyrl_example_plays_reference_trajectories() -> None:
    _require_skyrl()
    out = _run_example("skyrl_env.py", "--reference", "--count", "2")
    assert out.count("reward 1.0") == 2


@pytest.mark.integration
def test_the_skyrl_example_plays_shell_tasks_with_text_tool_calls() -> None:
    _require_skyrl()
    from tests.conftest import require_backend

    require_backend("bwrap")
    out = _run_example("skyrl_env.py", "--reference", "--env", "taskgym/Shell-v0", "--count", "2")
    assert out.count("reward 1.0") == 2


@pytest.mark.slow
def test_the_tiny_policy_learns_from_the_env(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the demo extra (torch, matplotlib)")
    pytest.importorskip("matplotlib", reason="the demo extra (torch, matplotlib)")
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "train_tiny_policy.py"),
            "--updates",
            "500",
            "--seed",
            "0",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(log) == 500
    first = sum(e["mean_reward"] for e in log[:25]) / 25
    last = sum(e["mean_reward"] for e in log[-25:]) / 25
    assert last > first + 0.08, (first, last)  # seeded: the same run every time
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
