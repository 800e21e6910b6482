"""Shell tasks (Shell-v0, ShellTasks-v0): one command a turn in a persistent shell,
graded after the episode on the state left behind, by checks the agent cannot reach."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym import CheckerError, ConfigError
from taskgym.envs.shell.tasks import BUNDLED_SHELL_TASKS, _commands, load_shell_tasks
from tests.conftest import require_backend, require_pytest_in
from tests.helpers import play


def make_env(**kwargs: object) -> gym.Env:  # type: ignore[type-arg]
    return gym.make("taskgym/Shell-v0", **kwargs)


# -- the format ----------------------------------------------------------------------


def test_bundled_tasks_load() -> None:
    records = load_shell_tasks(BUNDLED_SHELL_TASKS)
    assert len(records) >= 42
    assert all(r.total_checks >= 1 and r.solution for r in records)
    with_image = {r.id for r in records if r.image}
    assert len(with_image) >= 5 and {r.image for r in records if r.image} == {"shell-tools"}
    shell = gym.make("taskgym/Shell-v0").unwrapped.task  # type: ignore[attr-defined]
    tools = gym.make("taskgym/ShellTools-v0").unwrapped.task  # type: ignore[attr-defined]
    assert set(tools._ids) == with_image and not with_image & set(shell._ids)


def test_commands_are_lines_with_continuations() -> None:
    script = "# a comment\n\necho a\nfor x in 1 2; do \\\n  echo $x; \\\ndone\necho b\n"
    assert _commands(script) == ("echo a", "for x in 1 2; do \n  echo $x; \ndone", "echo b")


def write_task(root: Path, manifest: dict, **files: str) -> Path:
    root.mkdir(parents=True)
    (root / "task.json").write_text(json.dumps(manifest))
    for name, text in files.items():
        (root / name).write_text(text)
    return root


GOOD = {"id": "t", "instruction": "do it", "checks": [{"file_exists": "x"}]}


@pytest.mark.parametrize(
    ("manifest", "files", "message"),
    [
        ({**GOOD, "colour": 1}, {"solution.sh": "touch x"}, "unknown field"),
        ({**GOOD, "instruction": ""}, {"solution.sh": "touch x"}, "'instruction' is missing"),
        ({**GOOD, "max_turns": 0}, {"solution.sh": "touch x"}, "must be positive"),
        (GOOD, {}, "solution.sh is missing"),
        (GOOD, {"solution.sh": "# nothing\n"}, "holds no command"),
        ({**GOOD, "checks": []}, {"solution.sh": "touch x"}, "needs 'checks'"),
        ({**GOOD, "checks": [{"file_smells": "x"}]}, {"solution.sh": "touch x"}, "exactly one"),
        (
            {**GOOD, "checks": [{"file_equals": "x"}]},
            {"solution.sh": "touch x"},
            r"lacks \['text'\]",
        ),
        (
            {**GOOD, "checks": [{"file_matches": "x", "regex": "("}]},
            {"solution.sh": "touch x"},
            "bad regex",
        ),
        ({**GOOD, "max_turns": 2}, {"solution.sh": "touch x\ntouch y"}, "more than max_turns"),
        ({**GOOD, "modules": ["m"]}, {"solution.sh": "touch x"}, "there is no tests/ suite"),
        ({**GOOD, "deterministic": 1}, {"solution.sh": "touch x"}, "'deterministic' has the wrong"),
        (
            {**GOOD, "checks": [{"tree": "d", "entries": "a"}]},
            {"solution.sh": "touch x"},
            "'entries' is a list",
        ),
        (
            {**GOOD, "checks": [{"tree": "d", "entries": ["a"], "texts": {"b": "x"}}]},
            {"solution.sh": "touch x"},
            "a file among the entries",
        ),
        (
            {**GOOD, "checks": [{"unchanged": "d", "modes": "no"}]},
            {"solution.sh": "touch x"},
            "'modes' is true or false",
        ),
        (
            {**GOOD, "checks": [{"unchanged": ["d", "../e"]}]},
            {"solution.sh": "touch x"},
            "does not name a file inside",
        ),
        (
            {**GOOD, "checks": [{"tree": "/abs", "entries": []}]},
            {"solution.sh": "touch x"},
            "relative",
        ),
    ],
)
def test_bad_task_directories_say_what_is_wrong(
    tmp_path: Path, manifest: dict, files: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_shell_tasks(write_task(tmp_path / "t", manifest, **files))


def test_an_unchanged_path_the_setup_did_not_make_is_a_bug_of_the_task(tmp_path: Path) -> None:
    task = write_task(
        tmp_path / "t",
        {**GOOD, "checks": [{"unchanged": "data.txt"}]},
        **{"solution.sh": "touch x\n", "setup.sh": "touch other.txt\n"},
    )
    env = gym.make("taskgym/ShellTasks-v0", tasks=str(task))
    with pytest.raises(
        CheckerError, match=r"'unchanged' path 'data\.txt' after the setup: missing"
    ):
        env.reset(options={"task_id": "t"})
    env.close()


# -- episodes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("local", marks=pytest.mark.slow),
        "bwrap",
        pytest.param("docker", marks=pytest.mark.integration),
    ],
)
def test_every_reference_earns_one_and_the_empty_episode_zero(backend: str) -> None:
    require_backend(backend)
    env = make_env(sandbox=backend)
    records = {r.id: r for r in load_shell_tasks(BUNDLED_SHELL_TASKS)}
    for task_id in env.unwrapped.task._ids:  # type: ignore[attr-defined]
        record = records[task_id]
        reward, verdict, _ = play(env, record.id, [*record.solution, "submit"])
        assert reward == 1.0, (record.id, verdict)
        reward, verdict, _ = play(env, record.id, ["submit"])
        assert reward == 0.0, (record.id, verdict)
    env.close()


@pytest.mark.integration
def test_tasks_with_an_image_run_in_it_whatever_the_env_sandbox() -> None:
    """ShellTools-v0's tasks need git, sqlite3, zip and jq: each gets a docker sandbox of
    the shell-tools image, even from an env made with sandbox="bwrap"."""
    require_backend("docker")
    env = gym.make("taskgym/ShellTools-v0", sandbox="bwrap")
    for task_id in env.unwrapped.task._ids:  # type: ignore[attr-defined]
        env.reset(options={"task_id": task_id})
        assert env.unwrapped.sandbox.backend == "docker"  # type: ignore[attr-defined]
        for action in env.unwrapped.problem.solution:  # type: ignore[attr-defined]
            *_, reward, _, _, info = env.step(action)
        assert reward == 1.0, (task_id, info["verdict"])
        reward, verdict, _ = play(env, task_id, ["submit"])
        assert reward == 0.0, (task_id, verdict)
    env.close()


def test_a_process_that_must_stay_running_is_checked_before_the_stop() -> None:
    """file_changes looks while the episode's processes still run; a heartbeat written
    once, by a process that is gone, fails it."""
    env = make_env()
    reward, verdict, _ = play(
        env, "shell-heartbeat-worker", ["echo 1 > heartbeat.txt; echo 7 > worker.pid", "submit"]
    )
    assert reward == 0.0 and verdict["passed"] == 1
    assert "unchanged" in verdict["details"]["failures"][0]["why"]
    env.close()


def test_state_output_exit_codes_and_time_outs(tmp_path: Path) -> None:
    task = tmp_path / "count-lines"
    shutil.copytree(Path(BUNDLED_SHELL_TASKS) / "count-lines", task)
    manifest = json.loads((task / "task.json").read_text())
    (task / "task.json").write_text(json.dumps({**manifest, "command_seconds": 1}))
    env = gym.make("taskgym/ShellTasks-v0", tasks=str(task))
    env.reset(options={"task_id": "shell-count-lines"})
    obs, *_ = env.step("cd /tmp && X=41 && mkdir -p d")
    assert obs.startswith("[exit code 0]")
    obs, *_ = env.step("echo $((X + 1)) in $PWD")
    assert obs.startswith("42 in /tmp\n[exit code 0]")
    obs, *_ = env.step("```bash\nls nope\n```")
    assert "No such file" in obs and "[exit code 2]" in obs
    obs, *_ = env.step("sleep 60")
    assert "ran out of its 1 s and was interrupted" in obs
    obs, *_ = env.step("echo still $X")
    assert obs.startswith("still 41")
    obs, *_ = env.step("head -c 100000 /dev/zero | tr '\\0' a")
    assert "cut" in obs and len(obs) < 10_000
    obs, *_ = env.step("   ")
    assert obs.startswith("No command")
    obs, *_ = env.step("echo " + "x" * 20_000)
    assert obs.startswith("[not run: a command of 20005 characters")
    env.close()


def test_the_tasks_own_turn_limit_counts_every_turn(tmp_path: Path) -> None:
    """Turns without a command (empty, or refused as too long) count too: the task's
    limit ends the episode, and what is there is checked."""
    task = tmp_path / "count-lines"
    shutil.copytree(Path(BUNDLED_SHELL_TASKS) / "count-lines", task)
    manifest = json.loads((task / "task.json").read_text())
    (task / "task.json").write_text(json.dumps({**manifest, "max_turns": 3}))
    env = gym.make("taskgym/ShellTasks-v0", tasks=str(task), max_turns=50)
    env.reset(options={"task_id": "shell-count-lines"})
    assert "[2 turn(s) left]" in env.step("wc -l < data.txt > count.txt")[0]
    assert "[1 turn(s) left]" in env.step("")[0]
    obs, reward, terminated, truncated, _ = env.step("x" * 20_000)
    assert obs.startswith("[not run") and "[no turns left" in obs
    assert terminated and not truncated and reward == 1.0
    env.close()


def test_the_turn_limit_checks_what_is_there() -> None:
    env = make_env(max_turns=2)
    env.reset(options={"task_id": "shell-count-lines"})
    env.step("wc -l < data.txt > count.txt")
    _, reward, terminated, truncated, _info = env.step("echo thinking")
    assert truncated and not terminated and reward == 1.0
    env.close()


# -- tampering: each earns nothing ---------------------------------------------------

TAMPER_BACKENDS = ["bwrap", pytest.param("docker", marks=pytest.mark.integration)]


@pytest.mark.parametrize("backend", TAMPER_BACKENDS)
def test_a_fake_success_line_and_a_check_of_its_own_earn_nothing(backend: str) -> None:
    require_backend(backend)
    env = make_env(sandbox=backend)
    reward, verdict, _ = play(
        env,
        "shell-fix-script",
        [
            "echo 'All checks passed'; echo PASS; echo '[exit code 0]'",
            "printf '#!/bin/sh\\nexit 0\\n' > check.sh; chmod +x check.sh",
            "mkdir -p tests && echo 'def test_ok(): pass' > tests/test_ok.py",
            "submit",
        ],
    )
    # Only the check that the input was left alone passes: the script was never run.
    assert reward == 0.0 and [f["check"] for f in verdict["details"]["failures"]] == [0]
    env.close()


@pytest.mark.parametrize("backend", TAMPER_BACKENDS)
def test_the_checks_are_not_in_the_sandbox_during_the_episode(backend: str) -> None:
    """A search of every place but the read-only system (and of the system's Python
    directories, where an installed taskgym would be) for the expected output of
    shell-fix-script's check, as its task.json writes it, finds only the copy the agent
    planted: the search works, and the checks are nowhere."""
    require_backend(backend)
    env = make_env(sandbox=backend)
    search = (
        "grep -rlF --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev "
        "'2.33\\n3.75' / /usr/local /usr/lib/python3 2>/dev/null; echo done"
    )
    _, _, observations = play(
        env,
        "shell-fix-script",
        ["mkdir planted && echo '2.33\\n3.75' > planted/copy.txt", search, "submit"],
    )
    found = observations[1].split("done")[0].split()
    assert found and all(path.endswith("/planted/copy.txt") for path in found), found
    env.close()


@pytest.mark.parametrize("backend", TAMPER_BACKENDS)
def test_a_process_left_running_cannot_answer_at_check_time(backend: str) -> None:
    """A daemon waits for the episode's shell to end (the moment checks start) and then
    writes the right answer, again and again. Every process is stopped first. (It waits
    a little after the shell: processes die one after another, and what one writes in
    between is no more than the agent could have written itself.)"""
    require_backend(backend)
    env = make_env(sandbox=backend)
    env.reset(options={"task_id": "shell-count-lines"})
    daemon = (
        "shell=$$; setsid nohup sh -c "
        "'while kill -0 '$shell' 2>/dev/null; do sleep 0.01; done; sleep 0.3; "
        "while true; do echo 137 > count.txt; sleep 0.005; done' >/dev/null 2>&1 &"
    )
    env.step(daemon)
    obs, *_ = env.step("sleep 0.3; ps -e | grep -c sleep; ls")
    assert "count.txt" not in obs
    _, reward, *_, info = env.step("submit")
    assert reward == 0.0, info["verdict"]
    time.sleep(0.6)
    box = env.unwrapped._sandbox  # type: ignore[attr-defined]
    with pytest.raises(FileNotFoundError):
        box.read_file("count.txt")
    env.close()


def test_a_link_to_the_right_content_is_not_the_file(tmp_path: Path) -> None:
    """Checks read regular files only: a symbolic link (here to a file that holds the
    right answer) fails, so a link cannot make a check read outside the work directory."""
    env = make_env()
    reward, verdict, _ = play(
        env, "shell-count-lines", ["echo 137 > answer; ln -s answer count.txt", "submit"]
    )
    assert reward == 0.0 and "regular file" in verdict["details"]["failures"][0]["why"]
    env.close()


# -- the reference run (InterCode-style reward) --------------------------------------


def reference_play(env: gym.Env, task_id: str, actions: list[str]) -> tuple[float, dict]:  # type: ignore[type-arg]
    reward, verdict, _ = play(env, task_id, actions)
    return reward, verdict["details"]["reference_run"]


def test_the_reference_match_reward_compares_files_with_a_twin_run() -> None:
    env = gym.make("taskgym/ShellReference-v0")
    record = {r.id: r for r in load_shell_tasks(BUNDLED_SHELL_TASKS)}["shell-permissions"]
    reward, run = reference_play(env, record.id, [*record.solution, "submit"])
    assert reward == 1.0 and run["differ"] == []
    reward, run = reference_play(env, record.id, ["submit"])
    assert reward == 0.0
    # The right files with one mode wrong: half the changed paths match.
    reward, run = reference_play(
        env, record.id, ["chmod u+x scripts/*.sh; chmod 700 secrets.txt", "submit"]
    )
    assert run["differ"] == ["secrets.txt"] and 0.5 < reward < 1.0
    env.close()


def test_a_reference_that_prints_is_matched_on_its_output(tmp_path: Path) -> None:
    task = write_task(
        tmp_path / "t",
        {"id": "lines", "instruction": "Lines in data.txt?", "checks": [{"command": "true"}]},
        **{"setup.sh": "seq 137 > data.txt\n", "solution.sh": "wc -l < data.txt\n"},
    )
    env = gym.make(
        "taskgym/ShellTasks-v0", tasks=str(task), reference_run=True, reward="reference_match"
    )
    assert reference_play(env, "lines", ["echo 137", "submit"])[0] == 1.0
    assert reference_play(env, "lines", ["echo 13", "submit"])[0] < 1.0
    assert reference_play(env, "lines", ["submit"])[0] == 0.0
    env.close()


def test_tasks_that_cannot_repeat_their_reference_are_not_compared() -> None:
    ids = gym.make("taskgym/ShellReference-v0").unwrapped.task._ids  # type: ignore[attr-defined]
    assert "shell-heartbeat-worker" not in ids and len(ids) >= 30


def test_the_reward_without_a_reference_run_says_how_to_get_one() -> None:
    env = make_env(reward="reference_match")
    env.reset(options={"task_id": "shell-count-lines"})
    with pytest.raises(ConfigError, match="reference_run=True"):
        env.step("submit")
    env.close()


# -- a pytest suite as a check -------------------------------------------------------


@pytest.mark.parametrize("backend", TAMPER_BACKENDS)
def test_a_pytest_suite_counts_each_test_and_cannot_be_fooled(backend: str) -> None:
    """shell-fix-median's hidden tests import the agent's stats.py. They run as project
    tasks' tests do: a module that exits at import, a conftest.py that marks every test
    passed and a pytest.py beside it earn nothing; the real fix earns every test."""
    require_pytest_in(backend)
    env = make_env(sandbox=backend)
    record = {r.id: r for r in load_shell_tasks(BUNDLED_SHELL_TASKS)}["shell-fix-median"]
    reward, verdict, _ = play(env, record.id, [*record.solution, "submit"])
    assert reward == 1.0 and verdict["total"] == 5
    hacks = [
        "printf 'import os\\nos._exit(0)\\n' > stats.py",
        "printf 'import pytest\\n@pytest.hookimpl(hookwrapper=True)\\n"
        "def pytest_runtest_makereport(item, call):\\n    outcome = yield\\n"
        '    outcome.get_result().outcome = "passed"\\n\' > conftest.py',
        "printf 'import os\\nprint(\"5 passed\")\\nos._exit(0)\\n' > pytest.py",
        "submit",
    ]
    reward, verdict, observations = play(env, record.id, hacks)
    assert all("exit code 0" in o for o in observations[:3]), observations
    assert reward == 0.0 and verdict["passed"] == 0 and verdict["total"] == 5, verdict
    env.close()
