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


def test_all_is_pinned_and_every_name_exists() -> None:
    assert set(taskgym.__all__) == EXPECTED_ALL
    for name in taskgym.__all__:
        assert hasattr(taskgym, name), name


def test_import_taskgym_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, taskgym\n"
        "heavy = ['docker', 'ray', 'sympy', 'torch', 'pexpect']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_env_layer_loads_on_first_use_and_registering_needs_none_of_it() -> None:
    code = (
        "import sys, gymnasium, taskgym\n"
        "layer = ['taskgym.envs.env', 'taskgym.sandboxes', 'taskgym.batch', 'taskgym.core']\n"
        "print(','.join(m for m in layer if m in sys.modules))\n"
        "env = gymnasium.make('taskgym/ArithmeticEasy-v0')\n"
        "print(type(env.unwrapped) is taskgym.TaskEnv, 'taskgym.sandboxes' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["", "True True"]
    assert set(taskgym.__all__) <= set(dir(taskgym))
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        taskgym.NoSuchThing  # noqa: B018


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
