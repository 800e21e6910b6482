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
    assert result.returncode == 1 and "pip install trl" in result.stderr


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
