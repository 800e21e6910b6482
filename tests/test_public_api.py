"""The public surface is pinned, and importing taskgym stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import taskgym

EXPECTED_ALL = {
    "ActionTypeError",
    "AgentError",
    "CheckerError",
    "ConfigError",
    "ConformanceError",
    "DependencyNotInstalledError",
    "EnvInfo",
    "EpisodeStateError",
    "Graded",
    "ExecResult",
    "Execution",
    "Limits",
    "Outcome",
    "PoolTimeoutError",
    "Problem",
    "Reply",
    "Reward",
    "Sandbox",
    "SandboxClosedError",
    "SandboxError",
    "SandboxUnavailableError",
    "Task",
    "TaskEnv",
    "TaskgymError",
    "Tool",
    "Turn",
    "UnicodeText",
    "UnknownNameError",
    "UnknownTaskIdError",
    "Verdict",
    "__version__",
    "env_info",
    "grade_many",
    "make_reward",
    "make_sandbox",
    "register_reward",
    "register_sandbox",
    "register_task",
    "registered_ids",
    "reward_names",
    "sandbox_names",
}


def _fresh_interpreter(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new Python, where nothing is imported yet; fail on its error."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_all_is_pinned_and_every_name_exists() -> None:
    assert set(taskgym.__all__) == EXPECTED_ALL
    for name in taskgym.__all__:
        assert hasattr(taskgym, name), name


def test_import_taskgym_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, taskgym\n"
        "heavy = ['docker', 'ray', 'sympy', 'torch', 'pexpect', 'gymnasium', 'numpy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = _fresh_interpreter(code)
    assert result.stdout.strip() == ""


def test_the_env_layer_loads_on_first_use_and_registering_needs_none_of_it() -> None:
    code = (
        "import sys, gymnasium, taskgym\n"
        "layer = ['taskgym.envs.env', 'taskgym.sandboxes', 'taskgym.batch', 'taskgym.core']\n"
        "print(','.join(m for m in layer if m in sys.modules))\n"
        "env = gymnasium.make('taskgym/ArithmeticEasy-v0')\n"
        "print(type(env.unwrapped) is taskgym.TaskEnv, 'taskgym.sandboxes' in sys.modules)\n"
    )
    result = _fresh_interpreter(code)
    assert result.stdout.split("\n")[:2] == ["", "True True"]
    assert set(taskgym.__all__) <= set(dir(taskgym))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        taskgym.NoSuchThing  # noqa: B018


@pytest.mark.parametrize(
    "imports",
    ["import taskgym, gymnasium", "import gymnasium, taskgym", "import taskgym.errors, gymnasium"],
)
def test_envs_are_in_gymnasiums_registry_whichever_is_imported_first(imports: str) -> None:
    code = (
        f"{imports}\n"
        "import sys, taskgym, taskgym.registry as r\n"
        "ours = sorted(k for k in gymnasium.registry if k.startswith('taskgym/'))\n"
        "ours.remove('taskgym/Remote-v0')  # not a task: it plays a server's envs\n"
        "assert ours == taskgym.registered_ids() and len(ours) > 10, ours\n"
        "assert not r._PENDING\n"
        "assert not [f for f in sys.meta_path if type(f).__name__.startswith('_Register')]\n"
        "env = gymnasium.make('taskgym/ArithmeticEasy-v0')\n"
        "print(env.spec.id)\n"
    )
    result = _fresh_interpreter(code)
    assert result.stdout.strip() == "taskgym/ArithmeticEasy-v0"


def test_a_task_registered_later_reaches_gymnasium_too() -> None:
    code = (
        "import taskgym\n"
        "taskgym.register_task('LateDemo', 'taskgym.envs.math.arithmetic:ArithmeticTask',\n"
        "                      family='math', description='demo', difficulty='easy')\n"
        "import gymnasium\n"
        "taskgym.register_task('LaterDemo', 'taskgym.envs.math.arithmetic:ArithmeticTask',\n"
        "                      family='math', description='demo', difficulty='easy')\n"
        "print(gymnasium.make('taskgym/LateDemo-v0').spec.id,"
        " gymnasium.make('taskgym/LaterDemo-v0').spec.id)\n"
    )
    result = _fresh_interpreter(code)
    assert result.stdout.split() == ["taskgym/LateDemo-v0", "taskgym/LaterDemo-v0"]


def test_every_error_is_a_taskgym_error_and_a_builtin_category() -> None:
    assert issubclass(taskgym.UnknownNameError, ValueError)
    assert issubclass(taskgym.ActionTypeError, TypeError)
    assert issubclass(taskgym.CheckerError, RuntimeError)
    assert issubclass(taskgym.DependencyNotInstalledError, ImportError)
    for name in taskgym.__all__:
        obj = getattr(taskgym, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, taskgym.TaskgymError), name


def test_dependency_error_names_the_extra() -> None:
    err = taskgym.DependencyNotInstalledError("docker", "docker")
    assert "pip install 'taskgym[docker]'" in str(err)
