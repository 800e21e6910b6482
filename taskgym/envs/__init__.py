"""Environments: ``TaskEnv`` and one subpackage a family, each registering its envs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskgym.envs import code as _code  # noqa: F401 - registers the code family
from taskgym.envs import math as _math  # noqa: F401 - registers the math family
from taskgym.envs import shell as _shell  # noqa: F401 - registers the shell family

__all__ = ["TaskEnv", "load_task"]

if TYPE_CHECKING:
    from taskgym.envs.env import TaskEnv, load_task


def __getattr__(name: str) -> Any:
    """``TaskEnv`` and ``load_task``, imported on first use (registering needs neither)."""
    if name not in __all__:
        raise AttributeError(f"module 'taskgym.envs' has no attribute {name!r}")
    from taskgym.envs import env  # noqa: PLC0415 - the point: not at import time

    return getattr(env, name)
