"""gymnasium's vector API over taskgym envs, for trainers that step in lockstep.

``gymnasium.make_vec`` works on taskgym ids as it is in ``sync`` mode; in ``async`` mode
two defaults do not fit text envs, and :func:`make_vec` sets them: no shared memory
(observations are strings, which shared memory cannot hold) and worker processes
started with ``spawn`` (a forked worker would copy the trainer's memory). Episodes of
different lengths wait for each other here; the non-lockstep pool
(:mod:`taskgym.parallel.episodes`) does not make them.

Examples:
    >>> from taskgym.parallel import make_vec
    >>> envs = make_vec("taskgym/ArithmeticEasy-v0", num_envs=2)
    >>> observations, infos = envs.reset(seed=0)
    >>> _, rewards, terminated, _, _ = envs.step(("<answer>1</answer>", "no"))
    >>> terminated.tolist()
    [True, True]
    >>> envs.close()
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from taskgym.errors import ConfigError

__all__ = ["make_vec"]


def make_vec(
    env_id: str,
    num_envs: int = 1,
    *,
    mode: str = "sync",
    vector_kwargs: dict[str, Any] | None = None,
    **env_kwargs: Any,
) -> gym.vector.VectorEnv[Any, Any, Any]:
    """``num_envs`` copies of ``env_id`` as one gymnasium vector env, stepped together:
    ``mode`` "sync" (one process) or "async" (a spawned process each). ``env_kwargs`` go
    to every env (``reward``, ``sandbox``...), ``vector_kwargs`` to the vector env."""
    if mode not in ("sync", "async"):
        raise ConfigError(f"mode is 'sync' or 'async', got {mode!r}")
    options = dict(vector_kwargs or {})
    if mode == "async":
        options.setdefault("shared_memory", False)
        options.setdefault("context", "spawn")
    return gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode=mode, vector_kwargs=options, **env_kwargs
    )
