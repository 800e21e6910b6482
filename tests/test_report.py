"""taskgym report: the page and the table from a run file, checked in a real headless
Chromium (Debian's chromium) where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from taskgym import ConfigError
from taskgym.cli import main
from taskgym.report import render_html, summary_rows
from taskgym.run_file import load_run
from tests.conftest import REQUIRED_BACKENDS


@pytest.fixture
def run_file(tmp_path: Path) -> Path:
    """A real run: the oracle on one env, the null agent on a multi-turn one, and a
    record whose transcript holds markup, as an agent's output may."""
    solved, failed = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["run", "ArithmeticEasy-v0", "--episodes", "3", "--out", str(solved)]) == 0
    args = ["run", "ArithmeticRetry-v0", "--agent", "null", "--episodes", "2"]
    assert main([*args, "--out", str(failed)]) == 0
    lines = solved.read_text().splitlines() + failed.read_text().splitlines()
    hostile = json.loads(lines[-1])
    hostile["observations"][-1] = "<script>document.title='pwned'</script>"
    lines[-1] = json.dumps(hostile)
    run = tmp_path / "run.jsonl"
    run.write_text("\n".join(lines) + "\n")
    return run


def test_the_summary_has_a_row_an_env_with_rewards_pass_rates_and_turns(run_file: Path) -> None:
    rows = {r.env_id: r for r in summary_rows(load_run(run_file))}
    easy, retry = rows["taskgym/ArithmeticEasy-v0"], rows["taskgym/ArithmeticRetry-v0"]
    assert (easy.episodes, easy.mean_reward, easy.pass_rate, easy.mean_turns) == (3, 1.0, 1.0, 1.0)
    assert (retry.episodes, retry.mean_reward, retry.pass_rate, retry.mean_turns) == (
        2,
        0.0,
        0.0,
        3.0,
    )


def test_taskgym_report_writes_the_page_and_prints_the_table(
    run_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(run_file)]) == 0
    out = capsys.readouterr().out
    assert "taskgym/ArithmeticEasy-v0" in out and "100.0%" in out
    page = run_file.with_suffix(".html").read_text()
    assert '<table id="summary">' in page and page.count("<svg") == 3
    # The two worst and two best of each env, none twice: 3 of 3, then 2 of 2.
    assert page.count('<details class="episode">') == 5
    assert "<script>" not in page and "&lt;script&gt;" in page  # transcripts are escaped


def test_a_file_that_is_not_a_run_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"env_id": "x", "reward": 1, "actions": [], "observations": []}\nnot json\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: not JSON .*is this a run file"):
        load_run(bad)
    bad.write_text('{"reward": 1}\n')
    with pytest.raises(ConfigError, match="not an episode record"):
        load_run(bad)
    with pytest.raises(ConfigError, match="holds no episodes"):
        render_html(load_run(_empty(tmp_path)), "x")


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    return empty


@pytest.mark.integration
def test_the_page_loads_in_headless_chromium_and_shows_the_table(run_file: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if "chromium" in REQUIRED_BACKENDS:
            pytest.fail("chromium is required here (TASKGYM_REQUIRE_BACKENDS) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    assert main(["report", str(run_file)]) == 0
    page = run_file.with_suffix(".html")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--user-data-dir=" + str(page.parent / "profile"),
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # What the browser built from the page: the table with a row an env, the title
    # untouched by the transcript's script (it is text, not code).
    assert '<table id="summary">' in dom
    assert "<td>taskgym/ArithmeticEasy-v0</td><td>3</td><td>1.000</td><td>100.0%</td>" in dom
    assert "<td>taskgym/ArithmeticRetry-v0</td><td>2</td><td>0.000</td><td>0.0%</td>" in dom
    assert "pwned" not in dom.split("</title>")[0]
    shot = page.parent / "page.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1000,800", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
