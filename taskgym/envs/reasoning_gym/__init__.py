"""The reasoning-gym family: reasoning-gym's procedural datasets as taskgym envs (the
``reasoning-gym`` extra). ``ReasoningGym-v0`` reaches every dataset of the installed
version (``dataset=NAME``); see ``docs/reasoning-gym.md``. Registering imports neither
reasoning-gym nor the worker that runs it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from taskgym.registry import register_task

__all__ = ["dataset_names", "max_level", "reasoning_gym_missing"]

if TYPE_CHECKING:
    from taskgym.envs.reasoning_gym.datasets import (
        dataset_names,
        max_level,
        reasoning_gym_missing,
    )

register_task(
    "ReasoningGym",
    "taskgym.envs.reasoning_gym.task:ReasoningGymTask",
    family="reasoning_gym",
    description="reasoning-gym's procedural datasets (dataset=NAME, config=, level= of its "
    "curriculum); graded by its score_answer in a confined worker after taskgym's stricter "
    "form checks; needs the reasoning-gym extra.",
)


def __getattr__(name: str) -> Any:
    """The functions of :mod:`~taskgym.envs.reasoning_gym.datasets`, imported on first use."""
    if name not in __all__:
        raise AttributeError(f"module 'taskgym.envs.reasoning_gym' has no attribute {name!r}")
    return getattr(importlib.import_module("taskgym.envs.reasoning_gym.datasets"), name)
