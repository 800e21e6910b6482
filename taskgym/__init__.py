"""taskgym: gymnasium environments with machine-checked rewards for training agents.

``import taskgym`` registers every env and imports nothing heavy (no docker, ray, sympy,
torch, nor gymnasium itself: the envs enter gymnasium's registry when it is imported,
before or after taskgym; see :mod:`taskgym.registry`)::

    import gymnasium, taskgym
    env = gymnasium.make("taskgym/Arithmetic-v0", reward="binary", sandbox="local")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from taskgym import envs as _envs  # noqa: F401 - registers every env
from taskgym.errors import (
    ActionTypeError,
    AgentError,
    CheckerError,
    ConfigError,
    ConformanceError,
    DependencyNotInstalledError,
    EpisodeStateError,
    PoolTimeoutError,
    SandboxClosedError,
    SandboxError,
    SandboxUnavailableError,
    TaskgymError,
    UnknownNameError,
    UnknownTaskIdError,
)
from taskgym.registry import EnvInfo, env_info, register_task, registered_ids
from taskgym.version import __version__

if TYPE_CHECKING:
    from taskgym.batch import Graded, grade_many
    from taskgym.core import Execution, Outcome, Problem, Reply, Task, Tool, Turn, Verdict
    from taskgym.envs.env import TaskEnv
    from taskgym.rewards import Reward, make_reward, register_reward, reward_names
    from taskgym.sandboxes import (
        ExecResult,
        Limits,
        Sandbox,
        make_sandbox,
        register_sandbox,
        sandbox_names,
    )
    from taskgym.spaces import UnicodeText

# The rest of the API is imported on first use (PEP 562), so that ``import taskgym``
# costs little more than gymnasium itself (bench/import_time_and_size.py): an env's own modules
# load when it is made.
_LAZY = {
    **dict.fromkeys(["Graded", "grade_many"], "taskgym.batch"),
    **dict.fromkeys(
        ["Execution", "Outcome", "Problem", "Reply", "Task", "Tool", "Turn", "Verdict"],
        "taskgym.core",
    ),
    "TaskEnv": "taskgym.envs.env",
    **dict.fromkeys(
        ["Reward", "make_reward", "register_reward", "reward_names"], "taskgym.rewards"
    ),
    **dict.fromkeys(
        ["ExecResult", "Limits", "Sandbox", "make_sandbox", "register_sandbox", "sandbox_names"],
        "taskgym.sandboxes",
    ),
    "UnicodeText": "taskgym.spaces",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'taskgym' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ActionTypeError",
    "AgentError",
    "CheckerError",
    "ConfigError",
    "ConformanceError",
    "DependencyNotInstalledError",
    "EnvInfo",
    "EpisodeStateError",
    "ExecResult",
    "Execution",
    "Graded",
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
]
