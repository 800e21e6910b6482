"""The ``source`` reward: each episode of a mixture or a curriculum paid as the env its
problem comes from pays it (that env's registered reward, on the problem as that env
sees it). The default of ``Mixture-v0`` and ``Curriculum-v0``."""

from __future__ import annotations

import threading
from typing import Any

from taskgym.core import Outcome
from taskgym.envs.composite.sources import inner_problem
from taskgym.errors import ConfigError
from taskgym.rewards.base import Reward, make_reward

__all__ = ["SourceReward"]


class SourceReward:
    """Pays an outcome of a mixture or a curriculum with its source env's own reward."""

    def __init__(self) -> None:
        self._rewards: dict[str, Reward] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SourceReward()"

    def __call__(self, outcome: Outcome) -> float:
        source = outcome.problem.data.get("source")
        if not isinstance(source, str) or "inner" not in outcome.problem.data:
            raise ConfigError(
                "the 'source' reward pays episodes of Mixture-v0 and Curriculum-v0 envs, whose "
                "problems name their source env; give this env another reward"
            )
        inner = Outcome(
            inner_problem(outcome.problem), outcome.transcript, outcome.verdict, outcome.truncated
        )
        return float(self._reward_of(source)(inner))

    def _reward_of(self, env_id: str) -> Reward:
        with self._lock:
            reward = self._rewards.get(env_id)
            if reward is None:
                import gymnasium  # noqa: PLC0415 - loaded by the env paying this

                spec: Any = gymnasium.spec(env_id).kwargs.get("reward", "binary")
                reward = self._rewards[env_id] = make_reward(spec)
            return reward
