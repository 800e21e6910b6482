"""Environments: ``TaskEnv`` and one subpackage a family, each registering its envs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from taskgym.envs import code as _code  # noqa: F401 - registers the code family
from taskgym.envs import composite as _composite  # noqa: F401 - registers mixtures, curricula
from taskgym.envs import harbor as _harbor  # noqa: F401 - registers Harbor task directories
from taskgym.envs import math as _math  # noqa: F401 - registers the math family
from taskgym.envs import reasoning_gym as _reasoning_gym  # noqa: F401 - registers reasoning-gym
from taskgym.envs import shell as _shell  # noqa: F401 - registers the shell family

__all__ = ["TaskEnv", "load_task"]

if TYPE_CHECKING:
    from taskgym.envs.env import TaskEnv
    from taskgym.envs.loading import load_task

_HOMES = {"TaskEnv": "taskgym.envs.env", "load_task": "taskgym.envs.loading"}


def __getattr__(name: str) -> Any:
    """``TaskEnv`` and ``load_task``, imported on first use (registering needs neither)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskgym.envs' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
