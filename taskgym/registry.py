"""Registration: every taskgym env is ``TaskEnv`` plus JSON keyword arguments, put in
gymnasium's own registry under ``taskgym/<Name>-v<N>``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from taskgym.errors import ConfigError, UnknownNameError

__all__ = ["EnvInfo", "env_info", "register_task", "registered_ids"]

NAMESPACE = "taskgym"
ENTRY_POINT = "taskgym.envs.env:TaskEnv"


@dataclass(frozen=True)
class EnvInfo:
    """What ``taskgym list`` shows of a registered env."""

    env_id: str
    family: str
    description: str
    requires: tuple[str, ...] = ()
    """Options that must be given to ``make`` (a data file's path, say)."""


_ENVS: dict[str, EnvInfo] = {}


def register_task(
    name: str,
    task: str,
    *,
    family: str,
    description: str,
    version: int = 0,
    reward: str | dict[str, Any] = "binary",
    sandbox: str = "auto",
    requires: tuple[str, ...] = (),
    **options: Any,
) -> str:
    """Register ``task`` (a ``"module:Class"`` string) as ``taskgym/<name>-v<version>``.

    ``options`` are the env's and the task's keyword arguments; they must be JSON so the
    env's spec can be saved and rebuilt anywhere. ``requires`` names options only the
    user can give (a data file's path): such envs are left out of ``taskgym run``'s
    default selection. Returns the env id.

    Examples:
        >>> register_task("ArithmeticDemo", "taskgym.envs.math.arithmetic:ArithmeticTask",
        ...               family="math", description="demo", difficulty="easy")
        'taskgym/ArithmeticDemo-v0'
    """
    if ":" not in task:
        raise ConfigError(
            f"task must be a 'module:Class' string so import stays cheap, got {task!r}"
        )
    env_id = f"{NAMESPACE}/{name}-v{version}"
    kwargs = {"task": task, "reward": reward, "sandbox": sandbox, **options}
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"the options of {env_id} must be JSON values: {e}") from e
    gym.register(id=env_id, entry_point=ENTRY_POINT, kwargs=kwargs)
    _ENVS[env_id] = EnvInfo(env_id, family, description, tuple(requires))
    return env_id


def registered_ids(family: str | None = None, *, self_contained: bool = False) -> list[str]:
    """The ids of every registered taskgym env (of one family, if given), sorted; with
    ``self_contained``, only those that need no option from the user."""
    return sorted(
        env_id
        for env_id, info in _ENVS.items()
        if (family is None or info.family == family) and not (self_contained and info.requires)
    )


def env_info(env_id: str) -> EnvInfo:
    if env_id not in _ENVS:
        raise UnknownNameError("env", env_id, _ENVS)
    return _ENVS[env_id]
