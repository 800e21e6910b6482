"""Play episodes with an agent and record them (as :mod:`taskgym.run_file`'s records):
what ``taskgym run`` and ``validate`` do."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from taskgym.agents import Agent
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.errors import ConfigError
from taskgym.registry import NAMESPACE, env_info
from taskgym.run_file import EpisodeRecord, public_options
from taskgym.version import __version__

__all__ = [
    "EnvSummary",
    "full_env_id",
    "play_episode",
    "run_episodes",
    "summarize",
]


def full_env_id(name: str) -> str:
    """``Arithmetic-v0`` or ``taskgym/Arithmetic-v0`` -> ``taskgym/Arithmetic-v0``; an id
    that is not registered raises UnknownNameError listing those that are."""
    env_id = name if "/" in name else f"{NAMESPACE}/{name}"
    env_info(env_id)
    return env_id


def play_episode(
    env: TaskEnv,
    agent: Agent,
    *,
    env_id: str,
    episode: int,
    seed: int,
    task_id: str | None = None,
    make_options: Mapping[str, Any] | None = None,
    agent_options: Mapping[str, Any] | None = None,
    sample: int = 0,
) -> EpisodeRecord:
    """Reset ``env`` with ``seed`` (on problem ``task_id`` when given) and let ``agent``
    play until the episode ends. ``make_options`` (what ``env`` was made with) and
    ``agent_options`` go into the record, so the run can be repeated."""
    started = time.perf_counter()
    reset_options = {"task_id": task_id} if task_id is not None else None
    observation, info = env.reset(seed=seed, options=reset_options)
    agent.start(env, observation, info)
    actions: list[str] = []
    observations = [observation]
    rewards: list[float] = []
    terminated, truncated = False, False
    while not (terminated or truncated):
        action = agent.act(observation, info)
        observation, step_reward, terminated, truncated, info = env.step(action)
        rewards.append(float(step_reward))
        actions.append(action)
        observations.append(observation)
    finish = getattr(agent, "finish", None)
    if callable(finish):
        finish(observation, info)
    return EpisodeRecord(
        env_id=env_id,
        episode=episode,
        seed=seed,
        agent=agent.name,
        task_id=str(info["task_id"]),
        actions=actions,
        observations=observations,
        reward=sum(rewards),
        terminated=terminated,
        truncated=truncated,
        verdict=dict(info.get("verdict", {})),
        agent_stats=_agent_stats(agent),
        rewards=rewards,
        **_agent_chat(agent),
        options=dict(make_options or {}),
        agent_options=public_options(agent_options or {}),
        sandbox=env.sandbox.backend if env.sandbox is not None else None,
        seconds=time.perf_counter() - started,
        taskgym_version=__version__,
        sample=sample,
    )


def _agent_stats(agent: Agent) -> dict[str, Any]:
    report = getattr(agent, "episode_stats", None)
    return dict(report()) if callable(report) else {}


def _agent_chat(agent: Agent) -> dict[str, Any]:
    """A chat agent's conversation: its ``messages`` and the ``tools`` sent with them."""
    chat = getattr(agent, "episode_chat", None)
    if not callable(chat):
        return {}
    found = dict(chat())
    return {"messages": list(found.get("messages", [])), "tools": list(found.get("tools", []))}


def run_episodes(
    env_id: str,
    agent: Agent,
    *,
    episodes: int,
    seed: int = 0,
    make_kwargs: Mapping[str, Any] | None = None,
    every_task: bool = False,
    samples: int = 1,
) -> Iterator[EpisodeRecord]:
    """``episodes`` problems of ``env_id`` with seeds ``seed, seed+1, ...``, one env reused,
    each played ``samples`` times in a row (for pass@k: :mod:`taskgym.evaluation`).
    With ``every_task``, each problem of a task with a fixed set of them (see
    :meth:`~taskgym.core.Task.task_ids`) instead; ``episodes`` is then ignored."""
    if episodes < 1 or samples < 1:
        raise ConfigError(f"episodes and samples must be >= 1, got {episodes} and {samples}")
    env, task_env = make_task_env(env_id, **dict(make_kwargs or {}))
    try:
        ids = task_env.task.task_ids() if every_task else None
        plan = [(i, None) for i in range(episodes)] if ids is None else list(enumerate(ids))
        for i, task_id in plan:
            for sample in range(samples):
                yield play_episode(
                    task_env,
                    agent,
                    env_id=env_id,
                    episode=i * samples + sample,
                    seed=seed + i,
                    task_id=task_id,
                    make_options=make_kwargs,
                    sample=sample,
                )
    finally:
        env.close()


@dataclass(frozen=True)
class EnvSummary:
    env_id: str
    episodes: int
    mean_reward: float
    solved: float
    mean_turns: float


def summarize(records: Iterable[EpisodeRecord]) -> list[EnvSummary]:
    """One row per env, in order of first appearance."""
    groups: dict[str, list[EpisodeRecord]] = {}
    for r in records:
        groups.setdefault(r.env_id, []).append(r)
    return [
        EnvSummary(
            env_id=env_id,
            episodes=len(rs),
            mean_reward=sum(r.reward for r in rs) / len(rs),
            solved=sum(bool(r.verdict.get("solved")) for r in rs) / len(rs),
            mean_turns=sum(r.turns for r in rs) / len(rs),
        )
        for env_id, rs in groups.items()
    ]
