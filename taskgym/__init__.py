"""taskgym: gymnasium environments with machine-checked rewards for training agents.

``import taskgym`` registers every env in gymnasium's registry and imports nothing heavy
(no docker, ray, sympy or torch)::

    import gymnasium, taskgym
    env = gymnasium.make("taskgym/Arithmetic-v0", reward="binary", sandbox="local")
"""

from taskgym import envs as _envs  # noqa: F401 - registers every env
from taskgym.batch import Graded, grade_many
from taskgym.core import Outcome, Problem, Reply, Task, Turn, Verdict
from taskgym.envs.env import TaskEnv
from taskgym.errors import (
    ActionTypeError,
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

__version__ = "0.1.0"

__all__ = [
    "ActionTypeError",
    "CheckerError",
    "ConfigError",
    "ConformanceError",
    "DependencyNotInstalledError",
    "EnvInfo",
    "EpisodeStateError",
    "ExecResult",
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
