"""Mixture-v0: each episode a problem of one of several registered envs, chosen by weight.

``envs`` maps env ids to weights; ``options`` maps some of them to task options over
their registered ones. The source of an episode is a pure function of its problem seed
(so of ``reset(seed=...)``), drawn in proportion to the weights; the problem is the
source's problem of that seed, played and checked as the source plays it, under the
mixture's reward, sandbox and turn limit. ``info["source"]`` names the source env, and
the problem id is ``<env id>|<its own id>``, so ``reset(options={"task_id": ...})``
replays it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from taskgym.core import Problem, Task
from taskgym.envs.composite.delegating import DelegatingTask
from taskgym.envs.composite.sources import outer_problem, task_of_env
from taskgym.errors import ConfigError, UnknownTaskIdError

__all__ = ["MixtureTask", "pick"]

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class MixtureTask(DelegatingTask):
    """Options: ``envs`` (env id -> weight, each > 0) and ``options`` (env id -> its task
    options)."""

    family: ClassVar[str] = "composite"

    envs: Mapping[str, float] = field(
        default_factory=lambda: {"taskgym/Arithmetic-v0": 0.5, "taskgym/MathGen-v0": 0.5}
    )
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _sources: tuple[tuple[str, float, Task], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        if not isinstance(self.envs, Mapping) or not self.envs:
            raise ConfigError(
                "envs must map env ids to weights, e.g. "
                '{"taskgym/Arithmetic-v0": 0.7, "taskgym/MathGen-v0": 0.3}'
            )
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"options must map env ids to task options, got {self.options!r}")
        stray = sorted(set(self.options) - set(self.envs))
        if stray:
            raise ConfigError(f"options name envs {stray} that envs does not mix")
        sources = []
        for env_id, weight in self.envs.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise ConfigError(f"the weight of {env_id} must be a number, got {weight!r}")
            if not (math.isfinite(weight) and weight > 0):
                raise ConfigError(f"the weight of {env_id} must be finite and > 0, got {weight}")
            task = task_of_env(env_id, self.options.get(env_id, {}))
            sources.append((env_id, float(weight), task))
        object.__setattr__(self, "_sources", tuple(sources))
        self._merge()

    def inner_tasks(self) -> Sequence[Task]:
        return [task for _, _, task in self._sources]

    def _with_inner(self, tasks: Sequence[Task]) -> DelegatingTask:
        sources = tuple((e, w, t) for (e, w, _), t in zip(self._sources, tasks, strict=True))
        made: MixtureTask = self._copy_with(_sources=sources)
        return made

    def task_of(self, problem: Problem) -> Task:
        return self._source(problem.data["source"])[1]

    def _source(self, env_id: str) -> tuple[str, Task]:
        for source, _, task in self._sources:
            if source == env_id:
                return source, task
        raise UnknownTaskIdError(f"this mixture does not mix {env_id!r}")

    def problem(self, seed: int) -> Problem:
        weights = [weight for _, weight, _ in self._sources]
        env_id, _, task = self._sources[pick(weights, seed)]
        return outer_problem(task.problem(seed), env_id, source=env_id)

    def get(self, task_id: str) -> Problem:
        env_id, bar, inner_id = task_id.partition("|")
        if not bar:
            raise UnknownTaskIdError(f"{task_id!r} is no mixture id (<env id>|<its id>)")
        _, task = self._source(env_id)
        return outer_problem(task.get(inner_id), env_id, source=env_id)

    def episode_info(self, problem: Problem) -> Mapping[str, Any]:
        return {**super().episode_info(problem), "source": problem.data["source"]}


def pick(weights: Sequence[float], seed: int) -> int:
    """The index drawn for ``seed`` in proportion to ``weights``: a pure function of the
    two (``seed`` scrambled by splitmix64's finaliser, read as a fraction of one).

    Examples:
        >>> [pick([1.0, 3.0], s) for s in range(8)]
        [1, 1, 0, 1, 1, 1, 1, 1]
    """
    z = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    point = ((z ^ (z >> 31)) >> 11) / float(1 << 53) * sum(weights)
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0:
            return index
    return len(weights) - 1
