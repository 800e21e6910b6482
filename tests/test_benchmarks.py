"""The scale benchmarks (taskgym bench): their tables, their inputs, and a quick run of
each through the CLI. Timings are never asserted: the machine is shared."""

from __future__ import annotations

import re

import pytest

from taskgym import ConfigError
from taskgym.benchmarks import BENCHMARKS, Report, run_suite
from taskgym.benchmarks.grading import completions
from taskgym.benchmarks.startup import installed_bytes
from taskgym.cli import main


def test_a_report_prints_every_row_its_ratio_and_the_goal() -> None:
    report = Report("B0", "a test", "us/step", "x baseline", goal="under 2x")
    report.add("baseline", 1.5, 1.0)
    report.add("candidate", 3000.0, 2000.0, "a note")
    report.goal_met = False
    text = report.text()
    assert "B0  a test" in text
    assert re.search(r"candidate\s+3,000\s+2000.00  a note", text)
    assert "goal: under 2x: NOT met" in text


def test_the_suite_refuses_unknown_benchmarks_and_executors() -> None:
    with pytest.raises(ConfigError, match=r"unknown benchmark\(s\) \['B9'\]"):
        list(run_suite(["B9"]))
    with pytest.raises(ConfigError, match="unknown executor"):
        list(run_suite(["B1"], executors=["threads"]))
    assert set(BENCHMARKS) == {"B1", "B2", "B6", "B8"}


@pytest.mark.slow
def test_the_grading_benchmark_mixes_five_kinds_of_completion() -> None:
    import taskgym

    pairs = completions(57 * 5)  # every task once in each kind
    graded = taskgym.grade_many("taskgym/CodeTests-v0", pairs, workers=2)
    solved = [g.reward == 1.0 for g in graded]
    assert solved[:57] == [True] * 57  # the references
    assert not any(solved[57:])  # wrong, raising, unparsable, misnamed
    assert len({completion for _, completion in pairs[57 * 3 : 57 * 4]}) == 57  # syntax errors


def test_installed_size_counts_taskgym_and_grows_with_an_extra() -> None:
    core, missing = installed_bytes()
    assert core > 0 and missing == []
    with_sympy, _ = installed_bytes(("sympy",))
    assert with_sympy > core  # sympy is in the test extra, so it is installed here


@pytest.mark.slow
def test_taskgym_bench_quick_prints_each_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--executors", "inline,process"]) == 0
    out = capsys.readouterr().out
    for key in BENCHMARKS:
        assert re.search(rf"^{key}  ", out, re.MULTILINE), key
    assert "process executor" in out
    assert "AsyncEpisodePool, 256 in flight" in out
    assert "ProcessPoolExecutor loop (baseline)" in out
    assert "import taskgym" in out
