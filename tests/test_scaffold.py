"""taskgym new-task: the skeleton it writes passes conformance as written, and again
once its blanks are filled with a task of one's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taskgym import ConfigError
from taskgym.cli import main


def _pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=directory,
    )


@pytest.mark.slow
def test_the_skeleton_passes_conformance_and_so_does_a_filled_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-task", "text", "WordLadder", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert 'register_task("WordLadder", "word_ladder:WordLadderTask"' in out  # where it is
    # Where it is told to go when shipped, the line names it there.
    assert "move word_ladder.py and word_ladder.jsonl into taskgym/envs/text/" in out
    assert 'register_task("WordLadder", "taskgym.envs.text.word_ladder:WordLadderTask"' in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "test_word_ladder.py",
        "word_ladder.jsonl",
        "word_ladder.py",
    ]
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # Fill the blanks: problems of one's own and a check that reads them.
    (tmp_path / "word_ladder.jsonl").write_text(
        '{"id": "cold", "prompt": "One letter of cold changed: a word?", "answer": "cord"}\n'
        '{"id": "warm", "prompt": "One letter of warm changed: a word?", "answer": "ward"}\n'
        '{"id": "seed", "prompt": "One letter of seed changed: a word?", "answer": "send"}\n'
    )
    module = tmp_path / "word_ladder.py"
    module.write_text(
        module.read_text().replace(
            "answer = transcript[-1].action.strip()",
            "answer = transcript[-1].action.strip().lower()",
        )
    )
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_new_task_refuses_bad_names_and_never_overwrites(tmp_path: Path) -> None:
    from taskgym.scaffold import new_task

    with pytest.raises(ConfigError, match="CamelCase"):
        new_task("text", "word ladder", tmp_path)
    with pytest.raises(ConfigError, match="family"):
        new_task("Text!", "WordLadder", tmp_path)
    new_task("text", "WordLadder", tmp_path)
    with pytest.raises(ConfigError, match="not overwriting"):
        new_task("text", "WordLadder", tmp_path)


def test_the_skeletons_problem_file_errors_name_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from taskgym.scaffold import new_task

    new_task("text", "WordLadder", tmp_path)
    problems = tmp_path / "word_ladder.jsonl"
    spec = importlib.util.spec_from_file_location("word_ladder", tmp_path / "word_ladder.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "word_ladder", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    problems.write_text(problems.read_text() + "[1, 2]\n")
    with pytest.raises(ConfigError, match=r"word_ladder.jsonl:3: a problem is a JSON object"):
        module.WordLadderTask()
    problems.write_text('{"id": "a", "prompt": "p"}\n')
    with pytest.raises(ConfigError, match=r"word_ladder.jsonl:1: id, prompt and answer"):
        module.WordLadderTask()


@pytest.mark.slow
def test_the_skeleton_and_its_test_move_into_a_package_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test registers the module from its own package, so that the pair works
    wherever it is moved; the printed line names the package --dir is in."""
    package = tmp_path / "mytasks" / "text"
    package.mkdir(parents=True)
    (tmp_path / "mytasks" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    assert main(["new-task", "text", "WordLadder", "--dir", str(package)]) == 0
    assert '"mytasks.text.word_ladder:WordLadderTask"' in capsys.readouterr().out
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_new_task_refuses_the_name_of_a_registered_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-task", "math", "Arithmetic", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "taskgym/Arithmetic-v0 is a registered env already" in err
    assert "Traceback" not in err and not list(tmp_path.iterdir())
    assert main(["new-task", "shell", "CountLines", "--dir", str(tmp_path)]) == 2
    assert "a bundled shell task is named 'count-lines'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("family", "files", "env_id"),
    [
        ("shell", ["setup.sh", "solution.sh", "task.json"], "ShellTasks-v0"),
        ("code", ["solution.py", "task.json"], "CodeTests-v0"),
    ],
)
def test_a_data_family_gets_a_task_directory_that_validate_plays(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    family: str,
    files: list[str],
    env_id: str,
) -> None:
    """new-task shell writes a shell task (task.json, setup.sh, solution.sh), and code a
    function task, each played as written by the env the printed command names."""
    from tests.conftest import require_backend

    if family == "shell":
        require_backend("local")
    assert main(["new-task", family, "TallyNotes", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    task = tmp_path / "tally-notes"
    assert sorted(p.name for p in task.iterdir()) == files
    command = f"taskgym validate {env_id} --set tasks={task} --every-task"
    assert command in out
    assert main(command.split()[1:]) == 0
    assert " ok" in capsys.readouterr().out
