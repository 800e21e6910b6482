"""Environments: ``TaskEnv`` and one subpackage a family, each registering its envs."""

from taskgym.envs import code as _code  # noqa: F401 - registers the code family
from taskgym.envs import math as _math  # noqa: F401 - registers the math family
from taskgym.envs import shell as _shell  # noqa: F401 - registers the shell family
from taskgym.envs.env import TaskEnv, load_task

__all__ = ["TaskEnv", "load_task"]
