"""The taskgym command: list, run (JSONL + summary) and validate."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import taskgym
from taskgym.cli import main
from taskgym.cli.shared import unless_unavailable
from taskgym.errors import SandboxUnavailableError
from taskgym.sandboxes import unavailable_reason
from tests.conftest import REQUIRED_BACKENDS
from tests.helpers import registered


def test_list_shows_every_env_with_family_and_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in taskgym.registered_ids():
        assert env_id in out
    assert "math" in out and "three attempts" in out


def test_run_with_the_oracle_writes_one_line_per_episode_and_earns_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "nested" / "run.jsonl"
    assert main(["run", "--episodes", "3", "--seed", "7", "--out", str(out_file)]) == 0
    printed = capsys.readouterr()
    # An env is skipped only for a part missing here and not required: a sandbox backend
    # (a machine without a Docker engine skips the shell tasks that run in an image), Coq
    # (the proof envs), or an extra; the note says so and points to taskgym doctor.
    skipped = set()
    for env_id, reason in re.findall(r"^skipped (\S+): (.*)$", printed.err, re.MULTILINE):
        missing = {b for b in ("bwrap", "docker") if b in reason and unavailable_reason(b)}
        if "apt-get install coq" in reason and shutil.which("coqtop") is None:
            missing.add("coq")
        missing.update(re.findall(r"is not installed.*pip install 'taskgym\[([\w-]+)\]'", reason))
        assert missing and not missing & REQUIRED_BACKENDS, (env_id, reason)
        assert "`taskgym doctor`" in reason, reason
        skipped.add(env_id)
    played = set(taskgym.registered_ids(self_contained=True)) - skipped
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(lines) == 3 * len(played)
    assert {line["env_id"] for line in lines} == played
    assert all(line["reward"] == 1.0 and line["verdict"]["solved"] for line in lines)
    first = lines[0]
    assert first["seed"] == 7 and first["agent"] == "oracle"
    assert len(first["observations"]) == len(first["actions"]) + 1
    assert "mean reward" in printed.out and "1.000" in printed.out


def test_run_with_the_null_agent_earns_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "null.jsonl"
    assert main(["run", "--agent", "null", "--episodes", "2", "--out", str(out_file)]) == 0
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert lines and all(line["reward"] == 0.0 for line in lines)
    retry = [line for line in lines if line["env_id"] == "taskgym/ArithmeticRetry-v0"]
    assert all(line["turns"] == 3 for line in retry)  # every attempt was used


def test_run_accepts_short_ids_sandbox_and_reward_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        "run",
        "ArithmeticProgram-v0",
        "--episodes",
        "1",
        "--sandbox",
        "local",
        "--reward",
        '{"weighted": [["binary", 0.5]]}',
    ]
    assert main(args) == 0
    assert "0.500" in capsys.readouterr().out


def test_unknown_env_or_reward_is_a_clear_error_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "Nope-v0"]) == 2
    err = capsys.readouterr().err
    assert "unknown env 'taskgym/Nope-v0'" in err and "taskgym/Arithmetic-v0" in err
    assert main(["run", "Arithmetic-v0", "--reward", "nope"]) == 2
    assert "unknown reward 'nope'" in capsys.readouterr().err


@pytest.mark.slow  # every env; .ci/run's README step validates them all again
def test_validate_passes_the_registered_envs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--seeds", "2"]) == 0
    captured = capsys.readouterr()
    # An env whose sandbox lacks a part here (coqc, pytest inside it) is skipped, saying so.
    skipped = captured.err.count("skipped taskgym/")
    assert captured.out.count(" ok") + skipped == len(taskgym.registered_ids(self_contained=True))


def test_validate_fails_an_env_whose_reference_is_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    with registered("taskgym/BrokenRef-v0", "tests.test_conformance:WrongReference") as env_id:
        assert main(["validate", env_id, "--seeds", "1"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_validate_every_task_plays_each_problem_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--every-task plays each problem of a task with a fixed set (here a directory of
    two shell tasks, one of them broken, which is named) and seeds for the others."""
    for name, solution in (("good", "touch x"), ("bad", "true")):
        task = tmp_path / name
        task.mkdir()
        manifest = {"id": name, "instruction": "make x", "checks": [{"file_exists": "x"}]}
        (task / "task.json").write_text(json.dumps(manifest))
        (task / "solution.sh").write_text(solution + "\n")
    args = ["validate", "ShellTasks-v0", "--set", f"tasks={tmp_path}", "--every-task"]
    assert main(args) == 1
    row = next(line for line in capsys.readouterr().out.splitlines() if "ShellTasks" in line)
    assert row.split()[1] == "2" and row.endswith("FAIL: bad")
    assert main(["validate", "ArithmeticEasy-v0", "--every-task", "--seeds", "2"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "Arithmetic" in line)
    assert row.split()[1] == "2"


@pytest.mark.skipif(shutil.which("taskgym") is None, reason="console script not installed")
def test_console_script_runs() -> None:
    result = subprocess.run(
        ["taskgym", "run", "ArithmeticEasy-v0", "--episodes", "2"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "taskgym/ArithmeticEasy-v0" in result.stdout


def test_run_file_keeps_lone_surrogates_as_json_escapes(tmp_path: Path) -> None:
    from taskgym.run_file import EpisodeRecord, open_run_file, write_record

    record = EpisodeRecord("taskgym/X-v0", 0, 0, "a", "t", ["\ud800é"], ["p", ""], 0.0, True, False)
    path = tmp_path / "r.jsonl"
    with open_run_file(path) as out:
        write_record(out, record)
    assert json.loads(path.read_text(encoding="utf-8"))["actions"] == ["\ud800é"]


def _function_task_file(path: Path) -> Path:
    """A task file of one function task, one(), whose test expects 1."""
    record = {
        "id": "one",
        "prompt": "Write one().",
        "entry_point": "one",
        "solution": "def one():\n    return 1\n",
        "tests": [{"args": [], "expected": 1}],
    }
    path.write_text(json.dumps(record) + "\n")
    return path


def test_set_passes_options_to_the_envs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = _function_task_file(tmp_path / "tasks.jsonl")
    out = tmp_path / "run.jsonl"
    args = ["run", "CodeTests-v0", "--episodes", "1", "--set", f"tasks={tasks}", "--out", str(out)]
    assert main(args) == 0
    assert json.loads(out.read_text())["task_id"] == "one"
    assert main(["run", "CodeTests-v0", "--set", "attempts=0"]) == 2
    assert "attempts must be an int >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--set", "no-equals-sign"])


def test_an_env_whose_sandbox_cannot_run_here_is_skipped_unless_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`taskgym run` of everything notes and skips an env whose sandbox lacks a part
    (bubblewrap, pytest inside it); naming the env raises the error instead."""

    def episodes():  # type: ignore[no-untyped-def]
        raise SandboxUnavailableError("no pytest in the sandbox: apt-get install python3-pytest")
        yield

    everything = argparse.Namespace(env_ids=[])
    assert list(unless_unavailable(everything, "taskgym/X-v0", episodes())) == []
    note = capsys.readouterr().err
    assert "skipped taskgym/X-v0: no pytest" in note and "`taskgym doctor`" in note
    named = argparse.Namespace(env_ids=["X-v0"])
    with pytest.raises(SandboxUnavailableError):
        list(unless_unavailable(named, "taskgym/X-v0", episodes()))


def test_set_takes_options_per_env_and_env_ids_come_after_options_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two envs that each need their own tasks= in one command: --set ENV_ID:KEY=VALUE
    is that env's alone, --set KEY=VALUE every env's; an env id after an option parses."""
    functions = _function_task_file(tmp_path / "functions.jsonl")
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "five", "problem": "2 + 3?", "answer": 5}) + "\n")
    out = tmp_path / "run.jsonl"
    args = [
        "run",
        "CodeTests-v0",
        "--set",
        f"CodeTests-v0:tasks={functions}",
        "MathAnswers-v0",
        "--set",
        f"MathAnswers-v0:tasks={answers}",
        "--episodes",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["task_id"], line["reward"]) for line in lines] == [("one", 1.0), ("five", 1.0)]
    capsys.readouterr()
    validate = ["validate", "ArithmeticEasy-v0", "--set", "attempts=2", "Arithmetic-v0"]
    assert main([*validate, "--seeds", "1"]) == 0
    assert capsys.readouterr().out.count(" ok") == 2


def test_path_is_still_taken_for_tasks_with_a_deprecation_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    task = tmp_path / "t"
    task.mkdir()
    manifest = {"id": "t", "instruction": "make x", "checks": [{"file_exists": "x"}]}
    (task / "task.json").write_text(json.dumps(manifest))
    (task / "solution.sh").write_text("touch x\n")
    assert main(["validate", "ShellTasks-v0", "--set", f"path={task}", "--seeds", "1"]) == 0
    captured = capsys.readouterr()
    assert " ok" in captured.out
    assert "taskgym: deprecated: path= is now tasks=" in captured.err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["run", "ArithmeticEasy-v0", "--set", "dificulty=hard"],
            "taskgym/ArithmeticEasy-v0 takes no option dificulty; its options are attempts, "
            "difficulty, and every env's",
        ),
        (
            ["validate", "ArithmeticEasy-v0", "--set", "Arithmetic-v0:difficulty=hard"],
            "names an env not chosen",
        ),
        (["run", "ArithmeticEasy-v0", "--agent", "openai"], "--agent openai needs --model"),
        (["run", "ArithmeticEasy-v0", "--reward", '{"weighted": ['], "a reward spec in JSON"),
        (["run", "ArithmeticEasy-v0", "--seed", "x"], "invalid seed value: 'x'"),
        (["run", "ArithmeticEasy-v0", "--seed", "-1"], "a seed is an int >= 0, got -1"),
        (["run", "ArithmeticEasy-v0", "--executor", "threads"], "unknown executor 'threads'"),
        (["list", "--family", "chemistry"], "unknown family 'chemistry'"),
        (["run", "Nope-v0"], "unknown env 'taskgym/Nope-v0'"),
        (["report", "missing.jsonl"], "cannot read the run file missing.jsonl"),
        (["run", "ArithmeticEasy-v0", "--episodes", "1", "--out", "."], "Is a directory: ."),
    ],
)
def test_every_user_error_is_one_line_and_exit_code_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert said in err and "Traceback" not in err


def test_report_writes_its_page_into_a_directory_it_makes(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    assert main(["run", "ArithmeticEasy-v0", "--episodes", "1", "--out", str(run)]) == 0
    page = tmp_path / "pages" / "today" / "run.html"
    assert main(["report", str(run), "--out", str(page)]) == 0
    assert page.read_text().lower().startswith("<!doctype html>")
