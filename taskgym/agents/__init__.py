"""Agents that play taskgym envs through the public API: the baselines every task is
validated with. An agent is told when an episode starts, then asked for one action a turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from taskgym.envs.env import TaskEnv
from taskgym.errors import ConfigError
from taskgym.plugins import Registry

__all__ = [
    "AGENTS",
    "Agent",
    "AgentFactory",
    "NullAgent",
    "OracleAgent",
    "ScriptedAgent",
    "agent_names",
    "make_agent",
    "register_agent",
]


class Agent(Protocol):
    name: str

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        """A new episode of ``env`` began with ``observation``."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The next action."""


# An agent may also have, and the runner then calls at the episode's end:
# - ``finish(observation, info)``: the observation the last action led to;
# - ``episode_stats() -> dict`` (tokens, requests, cost...): the record's ``agent_stats``;
# - ``episode_chat() -> {"messages": [...], "tools": [...]}``: a chat model's whole
#   conversation, the record's ``messages`` and ``tools``.


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


AgentFactory = Callable[..., Agent]

# Any "module:Class" is an agent too: a class importable wherever the episode runs.
AGENTS: Registry[AgentFactory] = Registry("agent", entry_points=True)


def register_agent(name: str, factory: AgentFactory | str) -> None:
    """Make ``factory`` (options -> Agent: a class, or its ``"module:Class"``) available
    as agent ``name``, for ``make_agent`` and ``taskgym run --agent``. Executors build
    agents in their workers: register a string there, or in a module they import."""
    AGENTS.register(name, factory)


register_agent("oracle", OracleAgent)
register_agent("null", NullAgent)
register_agent("openai", "taskgym.agents.openai:OpenAIAgent")  # needs more: when chosen


def agent_names() -> list[str]:
    return AGENTS.names()


def make_agent(name: str, **options: Any) -> Agent:
    """The agent ``name`` built with ``options``: a registered one (``oracle``, ``null``,
    ``openai``...) or ``"module:Class"``, a class importable wherever the episode runs (a
    worker process, a Ray actor)."""
    factory = AGENTS.get(name)
    try:
        return factory(**options)
    except TypeError as e:
        raise ConfigError(f"bad options {sorted(options)} for agent {name!r}: {e}") from e
