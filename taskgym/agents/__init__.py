"""Agents that play taskgym envs through the public API: the baselines every task is
validated with. An agent is told when an episode starts, then asked for one action a turn.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from taskgym.envs.env import TaskEnv
from taskgym.errors import ConfigError, UnknownNameError

__all__ = ["Agent", "NullAgent", "OracleAgent", "ScriptedAgent", "agent_names", "make_agent"]


class Agent(Protocol):
    name: str

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        """A new episode of ``env`` began with ``observation``."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The next action."""


# An agent may also have ``episode_stats() -> dict`` (tokens, requests, cost...): the
# runner then writes what it returns into the episode's record, as ``agent_stats``.


class OracleAgent:
    """Plays the problem's reference solution, action by action (then empty actions).

    It reads ``env.problem``, which no learning agent should: it exists to prove that
    every task can be solved through the env and earns the top reward.
    """

    name = "oracle"

    def __init__(self) -> None:
        self._plan: Iterator[str] = iter(())

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        self._plan = iter(env.problem.solution)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return next(self._plan, "")


class NullAgent:
    """Answers every turn with an empty string: the floor every task must not reward."""

    name = "null"

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        pass

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return ""


class ScriptedAgent:
    """Plays the actions it was given, in order (then empty actions): a completion to
    grade, or a trajectory to replay."""

    name = "scripted"

    def __init__(self, actions: Sequence[str]) -> None:
        self.actions = tuple(actions)
        self._plan: Iterator[str] = iter(())

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        self._plan = iter(self.actions)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return next(self._plan, "")


_AGENTS: dict[str, Callable[..., Agent]] = {"oracle": OracleAgent, "null": NullAgent}
# Imported when chosen: they need more than the baselines do.
_LAZY_AGENTS = {"openai": "taskgym.agents.openai:OpenAIAgent"}


def agent_names() -> list[str]:
    return sorted([*_AGENTS, *_LAZY_AGENTS])


def make_agent(name: str, **options: Any) -> Agent:
    """The agent ``name`` built with ``options``: a built-in (``oracle``, ``null``,
    ``openai``) or ``"module:Class"``, a class importable wherever the episode runs (a
    worker process, a Ray actor)."""
    if name in _AGENTS:
        factory: Callable[..., Agent] = _AGENTS[name]
    elif name in _LAZY_AGENTS:
        factory = _load(_LAZY_AGENTS[name], name)
    else:
        module_name, colon, attr = name.partition(":")
        if not colon or not module_name or not attr:
            raise UnknownNameError("agent", name, [*agent_names(), "module:Class"])
        factory = _load(name, name)
    try:
        return factory(**options)
    except TypeError as e:
        raise ConfigError(f"bad options {sorted(options)} for agent {name!r}: {e}") from e


def _load(entry_point: str, name: str) -> Callable[..., Agent]:
    module_name, _, attr = entry_point.partition(":")
    try:
        factory: Callable[..., Agent] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot load agent {name!r}: {e}") from e
    return factory
