"""Episodes as small picklable specs, rebuilt and played wherever an executor runs them.

A spec names everything an episode needs (env id, ``make`` keyword arguments, seed,
problem id, agent) as JSON values, so it crosses to a worker process or a Ray actor as
a few hundred bytes. The side that plays it keeps one env per (env id, kwargs) in an
:class:`EnvCache`, so sandboxes and their warm processes serve episode after episode.
"""

from __future__ import annotations

import contextlib
import json
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from taskgym.agents import ScriptedAgent, make_agent
from taskgym.closing import Closing
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.errors import ConfigError
from taskgym.run_file import EpisodeRecord
from taskgym.runner import play_episode

__all__ = ["EnvCache", "EpisodeResult", "EpisodeSpec", "play_spec"]


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to play.

    Examples:
        >>> spec = EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=3)
        >>> with EnvCache() as envs:
        ...     play_spec(spec, envs).record.reward
        1.0
    """

    env_id: str
    seed: int = 0
    task_id: str | None = None
    """Replay this problem (``reset(options={"task_id": ...})``) instead of the seed's."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    """``gymnasium.make`` keyword arguments: JSON values only."""
    agent: str = "oracle"
    """An agent by name (``taskgym.agents.make_agent``)."""
    agent_options: Mapping[str, Any] = field(default_factory=dict)
    """The agent's keyword arguments (a model agent's model and endpoint): JSON values."""
    actions: tuple[str, ...] | None = None
    """Instead of an agent, these actions in order (a completion to grade, a trajectory
    to replay)."""
    episode: int = 0
    """Its number in the caller's run, carried into the record."""
    sample: int = 0
    """Which sample of its problem it is (several a problem for pass@k)."""

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ConfigError(f"EpisodeSpec.env_id must be a non-empty str, got {self.env_id!r}")
        if self.actions is not None and not (
            isinstance(self.actions, tuple) and all(isinstance(a, str) for a in self.actions)
        ):
            raise ConfigError("EpisodeSpec.actions must be a tuple of str")
        try:
            kwargs = (
                json.dumps(dict(self.kwargs), allow_nan=False, sort_keys=True)
                if self.kwargs or not isinstance(self.kwargs, Mapping)
                else "{}"  # the common case, on every episode a pool starts
            )
            if self.agent_options:
                json.dumps(dict(self.agent_options), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ConfigError(
                f"EpisodeSpec.kwargs and agent_options must be JSON values so the spec can "
                f"travel: {e}"
            ) from e
        # Checked and keyed once: pools look the key up on every episode.
        object.__setattr__(self, "_env_key", f"{self.env_id}\0{kwargs}")

    @property
    def env_key(self) -> str:
        """Which env of an :class:`EnvCache` plays it: the same for the same env id and
        kwargs."""
        return self._env_key  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class EpisodeResult:
    """A spec's outcome: its record, or why it has none (``error``: the env could not be
    made, the task raised, the worker died or ran out of time). One failed episode never
    takes others down."""

    spec: EpisodeSpec
    record: EpisodeRecord | None
    error: str | None = None
    error_type: str | None = None
    """The exception's class name, when one ended the episode (``SandboxUnavailableError``
    ...); None for a worker that died or ran out of time."""

    @property
    def ok(self) -> bool:
        return self.error is None


class EnvCache(Closing):
    """The envs one worker keeps, one per (env id, kwargs), made on first use and closed
    together. Not shared between threads: each worker thread has its own."""

    def __init__(self) -> None:
        # The TaskEnvs themselves: episodes are played on them, past gymnasium's
        # checking wrappers (whose close() only closes the env they wrap).
        self._envs: dict[str, TaskEnv] = {}
        self._owner = threading.get_ident()

    def env(self, spec: EpisodeSpec) -> TaskEnv:
        if threading.get_ident() != self._owner:
            raise RuntimeError("an EnvCache serves the thread that made it")
        made = self._envs.get(spec.env_key)
        if made is None:
            _, made = make_task_env(spec.env_id, **dict(spec.kwargs))
            self._envs[spec.env_key] = made
        return made

    def drop(self, spec: EpisodeSpec) -> None:
        """Close and forget the env of ``spec`` (after it failed: the next is new)."""
        made = self._envs.pop(spec.env_key, None)
        if made is not None:
            with contextlib.suppress(Exception):  # closing a broken env may fail too
                made.close()

    def close(self) -> None:
        envs, self._envs = self._envs, {}
        for made in envs.values():
            made.close()


def play_spec(spec: EpisodeSpec, envs: EnvCache) -> EpisodeResult:
    """Play ``spec`` with an env from ``envs``; any failure becomes the result's error
    (with the exception's last lines), and an env that failed is dropped from the cache."""
    try:
        env = envs.env(spec)
        agent = (
            make_agent(spec.agent, **dict(spec.agent_options))
            if spec.actions is None
            else ScriptedAgent(spec.actions)
        )
        record = play_episode(
            env,
            agent,
            env_id=spec.env_id,
            episode=spec.episode,
            seed=spec.seed,
            task_id=spec.task_id,
            make_options=spec.kwargs,
            agent_options=spec.agent_options,
            sample=spec.sample,
        )
    except Exception as e:  # the boundary: a failed episode is a result, not a crash
        envs.drop(spec)
        trace = "".join(traceback.format_exception_only(type(e), e)).strip()
        return EpisodeResult(spec, None, error=trace[-2000:], error_type=type(e).__name__)
    return EpisodeResult(spec, record)
