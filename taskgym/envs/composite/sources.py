"""The task of a registered env, rebuilt from its registration with options of the
caller's: what a mixture or a curriculum plays under its own env."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskgym.core import Problem, Task
from taskgym.envs.loading import load_task
from taskgym.errors import ConfigError
from taskgym.registry import env_info

__all__ = ["ENV_KEYWORDS", "inner_problem", "outer_problem", "task_of_env"]

ENV_KEYWORDS = frozenset(
    {
        "task",
        "reward",
        "sandbox",
        "sandbox_options",
        "sandbox_pool",
        "max_turns",
        "max_action_chars",
        "max_observation_chars",
        "render_mode",
    }
)
"""TaskEnv's own keyword arguments: the env's, not its task's."""


def task_of_env(env_id: str, options: Mapping[str, Any]) -> Task:
    """The task of registered env ``env_id`` with its registered task options, and
    ``options`` over them. The env's reward, sandbox and turn limit are not the task's:
    an option naming one is refused, saying to set it on the outer env."""
    if not isinstance(env_id, str):
        raise ConfigError(f"an env id is a str such as 'taskgym/Arithmetic-v0', got {env_id!r}")
    env_info(env_id)  # an unknown id raises, listing the registered ones
    if not isinstance(options, Mapping):
        raise ConfigError(f"the options of {env_id} must be a mapping, got {options!r}")
    own = sorted(ENV_KEYWORDS & set(options))
    if own:
        raise ConfigError(
            f"{own} for {env_id} belong to the env, not its task: set them on the mixture "
            "or curriculum itself (its reward, sandbox and turn limit hold for every episode)"
        )
    import gymnasium  # noqa: PLC0415 - loaded by any env that gets here

    registered = dict(gymnasium.spec(env_id).kwargs)
    entry = registered.get("task")
    if not isinstance(entry, str):
        raise ConfigError(f"{env_id} is not a taskgym TaskEnv registration")
    task_options = {k: v for k, v in registered.items() if k not in ENV_KEYWORDS}
    return load_task(entry, {**task_options, **options})


def outer_problem(inner: Problem, prefix: str, **data: Any) -> Problem:
    """``inner`` as the outer task's problem: its id behind ``prefix|``, the same prompt
    and solution, and ``inner`` kept whole in its data (beside ``data``)."""
    return Problem(
        id=f"{prefix}|{inner.id}",
        prompt=inner.prompt,
        solution=inner.solution,
        data={
            **data,
            "inner": {
                "id": inner.id,
                "prompt": inner.prompt,
                "solution": list(inner.solution),
                "data": dict(inner.data),
            },
        },
    )


def inner_problem(outer: Problem) -> Problem:
    """The problem ``outer`` wraps (see :func:`outer_problem`)."""
    inner = outer.data["inner"]
    return Problem(
        id=inner["id"],
        prompt=inner["prompt"],
        solution=tuple(inner["solution"]),
        data=inner["data"],
    )
