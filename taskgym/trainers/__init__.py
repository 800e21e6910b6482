"""Adapters for training stacks.

- :mod:`.rewards`: an env's prompts as dataset rows (:func:`prompt_rows`,
  :func:`to_dataset`, :func:`verl_rows`) and single-turn grading as the reward functions
  TRL and verl call (:func:`trl_reward`, :func:`verl_compute_score`).
- :mod:`.trl_env`: any env, single- or multi-turn, as a TRL ``environment_factory``
  (:func:`trl_environment`): TRL's tool loop plays the episode, ``get_reward`` pays it.
- :mod:`.skyrl_gym_env`: any env as a SkyRL-gym ``BaseTextEnv`` (:func:`skyrl_env`,
  :func:`register_skyrl_envs`, and :func:`skyrl_rows` for SkyRL's dataset schema; the
  ``skyrl`` extra).

The chat side (system prompts, tools, reading replies) is :mod:`taskgym.chat`'s. verl
loads ``verl_compute_score`` from this file's path (``custom_reward_function.path``).
"""

from __future__ import annotations

from typing import Any

from taskgym.trainers.rewards import (
    TaskgymReward,
    prompt_rows,
    to_dataset,
    trl_reward,
    verl_compute_score,
    verl_rows,
)
from taskgym.trainers.trl_env import TRLEnvironment, trl_environment

__all__ = [
    "TRLEnvironment",
    "TaskgymReward",
    "prompt_rows",
    "register_skyrl_envs",
    "skyrl_env",
    "skyrl_rows",
    "to_dataset",
    "trl_environment",
    "trl_reward",
    "verl_compute_score",
    "verl_rows",
]


def skyrl_env(env_id: str, **options: Any) -> Any:
    """A SkyRL-gym env playing ``env_id`` (:func:`.skyrl_gym_env.skyrl_env`)."""
    from taskgym.trainers.skyrl_gym_env import skyrl_env as make  # noqa: PLC0415 - skyrl-gym only when asked

    return make(env_id, **options)


def register_skyrl_envs(env_ids: Any = None) -> list[str]:
    """Register taskgym envs in SkyRL-gym's registry
    (:func:`.skyrl_gym_env.register_skyrl_envs`)."""
    from taskgym.trainers.skyrl_gym_env import register_skyrl_envs as register  # noqa: PLC0415

    return register(env_ids)


def skyrl_rows(env_id: str, **options: Any) -> list[dict[str, Any]]:
    """An env's prompts in SkyRL's dataset schema (:func:`.skyrl_gym_env.skyrl_rows`)."""
    from taskgym.trainers.skyrl_gym_env import skyrl_rows as rows  # noqa: PLC0415

    return rows(env_id, **options)
