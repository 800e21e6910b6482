"""Tasks from packages of their own: entry points of group ``taskgym.tasks`` (real
``importlib.metadata`` distributions: a ``.dist-info`` directory on ``sys.path``, and a
package installed with pip into a venv), and ``--import`` of a module or a script. Each
CLI call runs in a subprocess, so the plugins load as in a fresh ``taskgym`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import require_module

_ARITHMETIC = "taskgym.envs.math.arithmetic:ArithmeticTask"
_REGISTER = (
    "from taskgym import register_task\n"
    "register_task({name!r}, {task!r}, family='plugin', description='from a plugin', "
    "difficulty='easy')\n"
)


def _distribution(site: Path, dist: str, entry_points: str) -> None:
    """A distribution as pip leaves it: ``<dist>-1.0.dist-info`` with METADATA and
    entry_points.txt."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def _module(site: Path, dotted: str, text: str) -> None:
    path = site.joinpath(*dotted.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(site).parents:
        if parent != Path("."):
            (site / parent / "__init__.py").touch()
    path.write_text(text)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Three plugins: a module, a callable, and one that raises when imported."""
    site = tmp_path / "site"
    _module(site, "mod_tasks.tasks", _REGISTER.format(name="PluginModule", task=_ARITHMETIC))
    _distribution(site, "mod-tasks", "[taskgym.tasks]\nmod = mod_tasks.tasks\n")
    register = textwrap.indent(_REGISTER.format(name="PluginCalled", task=_ARITHMETIC), "    ")
    _module(site, "called_tasks", f"def register():\n{register}")
    _distribution(site, "called-tasks", "[taskgym.tasks]\ncalled = called_tasks:register\n")
    _module(site, "broken_tasks", "raise RuntimeError('this plugin is broken')\n")
    _distribution(site, "broken-tasks", "[taskgym.tasks]\nbroken = broken_tasks\n")
    return site


def _taskgym(
    *args: str, pythonpath: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "taskgym", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
        cwd=cwd,
    )


def _python(code: str, pythonpath: Path) -> str:
    """The output of ``python -c code`` with ``pythonpath`` on its path, which must pass."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), os.getcwd()])}
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_list_shows_plugin_envs_and_warns_of_a_broken_one(site: Path) -> None:
    result = _taskgym("list", "--family", "plugin", pythonpath=site)
    assert result.returncode == 0, result.stderr
    assert "taskgym/PluginModule-v0" in result.stdout
    assert "taskgym/PluginCalled-v0" in result.stdout
    # The broken plugin is named with its distribution and error; the others still load.
    assert "broken-tasks" in result.stderr and "this plugin is broken" in result.stderr


def test_run_and_validate_find_a_plugin_env_by_name(site: Path) -> None:
    result = _taskgym("run", "PluginModule-v0", "--episodes", "2", pythonpath=site)
    assert result.returncode == 0, result.stderr
    assert "taskgym/PluginModule-v0" in result.stdout
    result = _taskgym("validate", "PluginCalled-v0", "--seeds", "2", pythonpath=site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout.splitlines()[-1]


def test_plugins_are_not_loaded_at_import_but_on_lookup(site: Path) -> None:
    code = (
        "import sys, warnings, gymnasium, taskgym\n"
        "warnings.simplefilter('ignore')\n"
        "assert 'mod_tasks' not in sys.modules\n"
        "from taskgym.envs.env import make_task_env\n"
        "env, task_env = make_task_env('taskgym/PluginCalled-v0')\n"
        "env.close()\n"
        "print(taskgym.env_info('taskgym/PluginModule-v0').family)\n"
    )
    assert _python(code, site).strip() == "plugin"


def test_import_a_module_and_a_script(tmp_path: Path) -> None:
    (tmp_path / "my_tasks.py").write_text(_REGISTER.format(name="ByModule", task=_ARITHMETIC))
    script = tmp_path / "scripts" / "more_tasks.py"
    script.parent.mkdir()
    script.write_text(_REGISTER.format(name="ByScript", task=_ARITHMETIC))
    # A module in the current directory is found as ``python -m`` finds one.
    result = _taskgym(
        "list", "--import", "my_tasks", "--import", "scripts/more_tasks.py", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "taskgym/ByModule-v0" in result.stdout and "taskgym/ByScript-v0" in result.stdout
    result = _taskgym("run", "ByScript-v0", "--import", str(script), "--episodes", "1")
    assert result.returncode == 0, result.stderr


def test_import_of_nothing_is_a_clear_error(tmp_path: Path) -> None:
    result = _taskgym("run", "--import", "no_such_module_here", cwd=tmp_path)
    assert result.returncode == 2
    assert "no module 'no_such_module_here'" in result.stderr and "PYTHONPATH" in result.stderr
    result = _taskgym("validate", "--import", "missing/tasks.py", cwd=tmp_path)
    assert result.returncode == 2 and "no such script" in result.stderr


def test_an_unknown_id_still_lists_the_registered_ones(site: Path) -> None:
    result = _taskgym("run", "NoSuchEnv-v0", pythonpath=site)
    assert result.returncode == 2
    assert "PluginModule-v0" in result.stderr


@pytest.mark.slow
def test_new_task_project_installs_with_pip_and_validates(tmp_path: Path) -> None:
    project = tmp_path / "word-ladder"
    result = _taskgym("new-task", "text", "WordLadder", "--project", "--dir", str(project))
    assert result.returncode == 0, result.stderr
    assert f"pip install -e {project}" in result.stdout
    # A fresh venv that sees taskgym and its dependencies, and a real pip install of the
    # project (setuptools builds the editable wheel and its entry_points.txt), with the
    # pip and setuptools installed beside taskgym (the venv gets none of its own).
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e"]
    installed = subprocess.run(
        [*pip, str(project)], capture_output=True, text=True, check=False, timeout=300
    )
    assert installed.returncode == 0, installed.stderr
    for args in (["-m", "taskgym", "validate", "WordLadder-v0"], ["-m", "pytest", "-q"]):
        played = subprocess.run(
            [python, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            cwd=tmp_path if args[1] == "taskgym" else project,
        )
        assert played.returncode == 0, played.stdout + played.stderr
    assert (
        "taskgym/WordLadder-v0"
        in subprocess.run(
            [python, "-m", "taskgym", "list", "--family", "text"],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
    )


def test_new_task_project_refuses_data_families_and_overwriting(tmp_path: Path) -> None:
    from taskgym import ConfigError
    from taskgym.scaffold import new_task_project

    with pytest.raises(ConfigError, match="data played by taskgym/ShellTasks-v0"):
        new_task_project("shell", "CountLines", tmp_path)
    written = new_task_project("text", "WordLadder", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "pyproject.toml",
        "taskgym_word_ladder/__init__.py",
        "taskgym_word_ladder/word_ladder.py",
        "taskgym_word_ladder/word_ladder.jsonl",
        "tests/test_word_ladder.py",
    ]
    with pytest.raises(ConfigError, match="not overwriting"):
        new_task_project("text", "WordLadder", tmp_path)


def test_worker_processes_find_imported_envs(tmp_path: Path) -> None:
    """``--executor process`` workers are fresh interpreters: ``--import`` reaches them
    through TASKGYM_IMPORT, as a script run once in the parent is not run twice there."""
    script = tmp_path / "worker_tasks.py"
    script.write_text(_REGISTER.format(name="InWorkers", task=_ARITHMETIC))
    args = ["run", "InWorkers-v0", "--import", "worker_tasks.py", "--episodes", "2"]
    result = _taskgym(*args, "--executor", "process", "--concurrency", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "InWorkers" in line)
    assert row.split()[1:3] == ["2", "1.000"]
    assert "Overriding" not in result.stderr


def test_trainer_adapters_find_plugin_envs(site: Path) -> None:
    """TRL's environment factory makes a plugin env by id; SkyRL's registration of every
    env includes it (both load the plugins on the lookup)."""
    require_module("trl", "trl", "trl")
    require_module("skyrl_gym", "skyrl", "skyrl")
    code = (
        "import warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from taskgym.trainers.trl_env import trl_environment\n"
        "print(trl_environment('taskgym/PluginCalled-v0').__name__)\n"
        "from taskgym.trainers.skyrl_gym_env import register_skyrl_envs\n"
        "print('taskgym/PluginModule-v0' in register_skyrl_envs())\n"
    )
    assert _python(code, site).split() == ["TRL_PluginCalled_v0", "True"]


@pytest.mark.integration
def test_serve_plays_an_imported_env(tmp_path: Path) -> None:
    """``taskgym serve --import`` serves a script's env; a real episode over OpenEnv's
    protocol earns the reference's reward."""
    require_module("openenv", "openenv", "openenv")
    import gymnasium as gym

    from tests.serving_helpers import reference, serving

    script = tmp_path / "served_tasks.py"
    script.write_text(_REGISTER.format(name="ServedPlugin", task=_ARITHMETIC))
    env_id = "taskgym/ServedPlugin-v0"
    # The script registers ArithmeticEasy-v0's task and options: its reference is the one
    # to play (the server sends none).
    answer = reference("taskgym/ArithmeticEasy-v0", 3)[0]
    with serving([env_id], "--import", str(script)) as served:
        assert env_id in json.dumps(served.get("/envs"))
        remote = gym.make("taskgym/Remote-v0", url=served.url, env_id=env_id)
        try:
            remote.reset(seed=3)
            _, reward, terminated, _, _ = remote.step(answer)
        finally:
            remote.close()
    assert terminated and reward == 1.0


def test_threads_making_a_plugin_env_at_once_all_find_it(site: Path) -> None:
    """The first lookup loads the plugins; the threads that ask meanwhile wait for it
    instead of finding the id missing."""
    code = (
        "import warnings, gymnasium, taskgym\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from taskgym.envs.env import make_task_env\n"
        "warnings.simplefilter('ignore')\n"
        "def make(_):\n"
        "    env, _ = make_task_env('taskgym/PluginModule-v0')\n"
        "    env.close()\n"
        "    return True\n"
        "with ThreadPoolExecutor(8) as pool:\n"
        "    print(all(pool.map(make, range(8))))\n"
    )
    assert _python(code, site).strip() == "True"
