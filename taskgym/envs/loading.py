"""A task built from its registration: the ``"module:Class"`` of ``register_task`` and
the options given to ``make``, checked against what the task accepts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from taskgym.core import Task
from taskgym.errors import ConfigError
from taskgym.plugins import load

__all__ = ["load_task", "task_options"]


def load_task(entry_point: str, options: Mapping[str, Any]) -> Task:
    """Build the task ``"module:Class"`` with ``options``; unknown options raise TypeError
    naming the ones the task accepts."""
    cls = load(entry_point, "task")
    attr = entry_point.partition(":")[2]
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise ConfigError(f"{entry_point!r} is not a taskgym Task subclass")
    known = _init_fields(cls)
    if known is not None:
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(
                f"unknown option(s) {unknown} for task {attr}; it accepts {_shown(entry_point)} "
                "besides the env's reward, sandbox, sandbox_options, max_turns, "
                "max_action_chars, max_observation_chars and render_mode"
            )
    try:
        return cls(**options)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"bad options for task {attr}: {e}") from e


def task_options(entry_point: str) -> dict[str, bool] | None:
    """The options task ``"module:Class"`` takes, each mapped to whether it is
    deprecated (its field's metadata has ``"deprecated"``: still taken, no longer
    shown); None for a task that is not a dataclass (its constructor says)."""
    try:
        fields = dataclasses.fields(load(entry_point, "task"))
    except TypeError:
        return None
    return {f.name: "deprecated" in f.metadata for f in fields if f.init}


def _shown(entry_point: str) -> list[str]:
    """The options to name: those deprecated are left out."""
    return sorted(name for name, old in (task_options(entry_point) or {}).items() if not old)


def _init_fields(cls: type) -> set[str] | None:
    try:
        return {f.name for f in dataclasses.fields(cls) if f.init}
    except TypeError:  # not a dataclass: its constructor will say what it accepts
        return None
