"""A run file: the episodes of a run, one JSON object a line (``taskgym run --out``).

:class:`EpisodeRecord` is one line; :func:`open_run_file` and :func:`write_record`
write them as episodes end (so an interrupted run keeps its work), and
:func:`load_run` reads them back (``taskgym report``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from taskgym.errors import ConfigError
from taskgym.jsonl import read_json_objects

__all__ = ["EpisodeRecord", "load_run", "open_run_file", "public_options", "write_record"]

_RECORD_FIELDS = frozenset({"env_id", "reward", "actions", "observations"})


@dataclass(frozen=True)
class EpisodeRecord:
    """One episode as written to a run file (one JSON line)."""

    env_id: str
    episode: int
    seed: int
    agent: str
    task_id: str
    actions: list[str]
    observations: list[str]
    """The prompt, then the observation after each action."""
    reward: float
    terminated: bool
    truncated: bool
    verdict: dict[str, Any] = field(default_factory=dict)
    agent_stats: dict[str, Any] = field(default_factory=dict)
    """What the agent reports of the episode (a model agent: requests, tokens, cost)."""
    rewards: list[float] = field(default_factory=list)
    """The reward of each step (their sum is :attr:`reward`); rewards that shape turns
    pay before the last."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """A chat agent's whole conversation (:mod:`taskgym.chat`): the system prompt, the
    tools offered, every reply as the model sent it and every answer, so a trainer can
    rebuild the exact sequence it sampled. Empty for agents that are not chat models."""
    tools: list[dict[str, Any]] = field(default_factory=list)
    """The tools those messages were sent with (OpenAI ``tools`` entries), if any."""
    options: dict[str, Any] = field(default_factory=dict)
    """The ``gymnasium.make`` options the env was made with (the reward spec among
    them): with the env id, seed and task id, what it takes to play the episode again."""
    agent_options: dict[str, Any] = field(default_factory=dict)
    """The agent's settings (a model agent's model, endpoint, temperature...), without
    secrets (any option whose name holds key, token, secret or password)."""
    sandbox: str | None = None
    """The sandbox backend the env used (what ``auto`` chose), None for none."""
    seconds: float = 0.0
    """The episode's wall time, reset to end."""
    sample: int = 0
    """Which of the samples of its problem this episode is (``taskgym run --samples``)."""
    taskgym_version: str = ""

    @property
    def turns(self) -> int:
        return len(self.actions)

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"agent_stats": self.agent_stats} if self.agent_stats else {}
        if self.agent_options:
            extra["agent_options"] = self.agent_options
        if self.messages:
            extra["messages"] = self.messages
        if self.tools:
            extra["tools"] = self.tools
        return {
            "env_id": self.env_id,
            "episode": self.episode,
            "seed": self.seed,
            "agent": self.agent,
            "task_id": self.task_id,
            "turns": self.turns,
            "reward": self.reward,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "verdict": self.verdict,
            "actions": self.actions,
            "observations": self.observations,
            "rewards": self.rewards,
            "options": self.options,
            "sandbox": self.sandbox,
            "seconds": round(self.seconds, 6),
            "taskgym_version": self.taskgym_version,
            "sample": self.sample,
            **extra,
        }


_SECRET_WORDS = ("key", "token", "secret", "password")


def public_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without the ones a run file must not keep (API keys and the like)."""
    return {
        name: value
        for name, value in options.items()
        if not any(word in name.lower() for word in _SECRET_WORDS)
    }


def open_run_file(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    # backslashreplace writes a lone surrogate as its JSON escape, which reads back.
    return path.open("w", encoding="utf-8", errors="backslashreplace")


def write_record(out: TextIO, record: EpisodeRecord) -> None:
    out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()


def load_run(path: Path) -> list[dict[str, Any]]:
    """The episodes of a run file (``taskgym run --out``), one JSON object a line. A
    bad line is an error naming it; nothing is guessed."""
    records = []
    for where, record in read_json_objects(path, what="run file", item="run record"):
        missing = _RECORD_FIELDS - set(record)
        if missing:
            raise ConfigError(f"{where} is not an episode record (missing {sorted(missing)})")
        records.append(record)
    if not records:
        raise ConfigError(f"{path} holds no episodes")
    return records
