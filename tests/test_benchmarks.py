"""The scale benchmarks (bench/, run from the checkout): their tables, their inputs, and
a quick run of the suite through ``python -m bench``. Timings are never asserted: the
machine is shared."""

from __future__ import annotations

import re

import pytest

from bench import __main__ as bench_main
from bench import step_overhead
from bench.batch_grading import completions
from bench.import_time_and_size import installed_bytes
from bench.ratios import Report, interleaved_rounds, median_ratio


def test_a_report_prints_every_row_its_ratio_and_the_goal() -> None:
    report = Report("a_benchmark", "a test", "us/step", "x baseline", goal="under 2x")
    report.add("baseline", 1.5, 1.0)
    report.add("candidate", 3000.0, 2000.0, "a note")
    report.goal_met = False
    text = report.text()
    assert "a_benchmark  a test" in text
    assert re.search(r"candidate\s+3,000\s+2000.00  a note", text)
    assert "goal: under 2x: NOT met" in text


def test_rounds_interleave_and_a_ratio_is_the_median_of_the_rounds() -> None:
    order: list[str] = []
    samples = interleaved_rounds(
        3, {"a": lambda: order.append("a") or 1.0, "b": lambda: order.append("b") or 2.0}
    )
    assert order == ["a", "b"] * 3
    assert samples == {"a": [1.0] * 3, "b": [2.0] * 3}
    assert median_ratio([2.0, 9.0, 3.0], [1.0, 1.0, 3.0]) == 2.0


def test_the_suite_refuses_unknown_benchmarks_and_executors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_main.main(["B9"]) == 2
    assert "unknown benchmark(s) ['B9']" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        step_overhead.main(["--executors", "threads"])
    assert exited.value.code == 2
    assert "unknown executor" in capsys.readouterr().err
    assert set(bench_main.SCALE_SUITE) <= set(bench_main.BENCHMARKS)


def test_every_benchmark_is_listed_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in bench_main.BENCHMARKS:
        assert re.search(rf"^  {name} +\S", out, re.MULTILINE), name


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
def test_the_scale_suite_quick_prints_each_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main(["--quick", "--executors", "inline,process"]) == 0
    out = capsys.readouterr().out
    for name in bench_main.SCALE_SUITE:
        assert re.search(rf"^{name}  ", out, re.MULTILINE), name
    assert "process executor" in out
    assert "AsyncEpisodePool, 256 in flight" in out
    assert "ProcessPoolExecutor loop (baseline)" in out
    assert "import taskgym" in out
