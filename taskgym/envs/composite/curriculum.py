"""Curriculum-v0: a registered env's task whose difficulty option moves with the recent
solve rate, by a rule the user gives.

``env`` names the env; ``options`` its task options that stay; ``option`` the one that
moves, through ``values`` (easiest first), starting at ``values[start]``. After each
episode of the current level ends, its result (the verdict solved it or not) joins the
level's history, and the rule says the next level:

- a JSON spec ``{"window": 20, "raise_above": 0.8, "lower_below": 0.3}``: once the last
  ``window`` episodes of the level are in (``min_episodes``, by default ``window``), a
  solve rate of at least ``raise_above`` moves one level up, one of at most
  ``lower_below`` one down;
- or a ``"module:attr"`` callable ``rule(level, history, levels) -> level`` (``history``:
  the level's results so far, oldest first, as bools; ``levels``: how many there are),
  imported where the env runs, so that it travels in an executor's JSON spec.

A new level starts with an empty history. The level is a function of the results alone,
so the same seeds and answers give the same levels. Each env holds its own: under an
executor with several workers, each worker's env follows the episodes it plays.
``info["level"]`` is the episode's level (its index), ``info["level_value"]`` the
option's value, ``info["solve_rate"]`` the level's rate so far (None before any).
A problem's id is ``L<level>|<the task's id>``: any level's problem replays by id, and
only episodes of the current level count.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from taskgym.core import Problem, Task, Turn, Verdict
from taskgym.envs.composite.delegating import DelegatingTask
from taskgym.envs.composite.sources import outer_problem, task_of_env
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.plugins import load

__all__ = ["CurriculumTask", "ThresholdRule"]

Rule = Callable[[int, Sequence[bool], int], int]


@dataclass(frozen=True)
class ThresholdRule:
    """The declarative rule: up a level at a solve rate of at least ``raise_above`` over
    the last ``window`` episodes, down at most ``lower_below``, once ``min_episodes``
    (``window`` by default) are in.

    Examples:
        >>> rule = ThresholdRule(window=4, raise_above=0.75, lower_below=0.25)
        >>> rule(0, [True, True, False], 3), rule(0, [True, True, False, True], 3)
        (0, 1)
        >>> rule(2, [True] * 9, 3), rule(1, [False] * 4, 3)
        (2, 0)
    """

    window: int = 20
    raise_above: float = 0.8
    lower_below: float = 0.3
    min_episodes: int | None = None

    def __post_init__(self) -> None:
        for name in ("window", "min_episodes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"rule {name} must be an int, got {value!r}")
        if self.window < 1 or (self.min_episodes is not None and self.min_episodes < 1):
            raise ConfigError("rule window and min_episodes must be >= 1")
        bounds = (self.lower_below, self.raise_above)
        if not all(isinstance(b, (int, float)) and math.isfinite(b) for b in bounds):
            raise ConfigError(f"raise_above and lower_below must be numbers, got {bounds}")
        if not 0 <= self.lower_below < self.raise_above <= 1:
            raise ConfigError(
                "the rule needs 0 <= lower_below < raise_above <= 1, got "
                f"lower_below={self.lower_below}, raise_above={self.raise_above}"
            )

    def __call__(self, level: int, history: Sequence[bool], levels: int) -> int:
        needed = self.window if self.min_episodes is None else self.min_episodes
        recent = list(history)[-self.window :]
        if len(history) < needed or not recent:
            return level
        rate = sum(recent) / len(recent)
        if rate >= self.raise_above:
            return min(level + 1, levels - 1)
        if rate <= self.lower_below:
            return max(level - 1, 0)
        return level


class _State:
    """The curriculum's moving part: the level and its history (a lock: a task may be
    checked from the episode pool's threads)."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.history: list[bool] = []
        self.lock = threading.Lock()


@dataclass(frozen=True)
class CurriculumTask(DelegatingTask):
    """Options: ``env``, ``options``, ``option``, ``values``, ``start``, ``rule`` (see the
    module docstring)."""

    family: ClassVar[str] = "composite"

    env: str = "taskgym/Arithmetic-v0"
    options: Mapping[str, Any] = field(default_factory=dict)
    option: str = "difficulty"
    values: Sequence[Any] = ("easy", "medium", "hard")
    start: int = 0
    rule: Mapping[str, Any] | str = field(default_factory=dict)
    _levels: tuple[Task, ...] = field(init=False, repr=False, compare=False, default=())
    _rule: Rule = field(init=False, repr=False, compare=False, default=ThresholdRule())
    _state: _State = field(init=False, repr=False, compare=False, default=_State(0))

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, Mapping)) or not isinstance(self.values, Sequence):
            raise ConfigError(f"values must be a list of the option's values, got {self.values!r}")
        if len(self.values) < 2:
            raise ConfigError("values must hold two values or more, easiest first")
        if not isinstance(self.option, str) or self.option in self.options:
            raise ConfigError(
                f"option must name the task option that moves, and options must not set it "
                f"(option={self.option!r})"
            )
        if isinstance(self.start, bool) or not (
            isinstance(self.start, int) and 0 <= self.start < len(self.values)
        ):
            raise ConfigError(f"start must be an index of values, 0 to {len(self.values) - 1}")
        levels = tuple(
            task_of_env(self.env, {**self.options, self.option: value}) for value in self.values
        )
        object.__setattr__(self, "values", list(self.values))
        object.__setattr__(self, "_levels", levels)
        object.__setattr__(self, "_rule", _make_rule(self.rule))
        object.__setattr__(self, "_state", _State(self.start))
        self._merge()

    @property
    def level(self) -> int:
        """The level the next problem is made at (an index of ``values``)."""
        return self._state.level

    def inner_tasks(self) -> Sequence[Task]:
        return self._levels

    def _with_inner(self, tasks: Sequence[Task]) -> DelegatingTask:
        made: CurriculumTask = self._copy_with(_levels=tuple(tasks))  # the state is shared
        return made

    def task_of(self, problem: Problem) -> Task:
        return self._levels[int(problem.data["level"])]

    def problem(self, seed: int) -> Problem:
        level = self._state.level
        return self._wrap(level, self._levels[level].problem(seed))

    def get(self, task_id: str) -> Problem:
        head, bar, inner_id = task_id.partition("|")
        if not (bar and head.startswith("L") and head[1:].isdigit()):
            raise UnknownTaskIdError(f"{task_id!r} is no curriculum id (L<level>|<its id>)")
        level = int(head[1:])
        if level >= len(self._levels):
            raise UnknownTaskIdError(f"{task_id!r}: this curriculum has {len(self._levels)} levels")
        return self._wrap(level, self._levels[level].get(inner_id))

    def _wrap(self, level: int, inner: Problem) -> Problem:
        value = self.values[level]
        return outer_problem(inner, f"L{level}", source=self.env, level=level, level_value=value)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Any) -> Verdict:
        verdict = super().check(problem, transcript, sandbox)
        self._record(problem.data["level"], verdict.solved)
        return verdict

    def _record(self, level: int, solved: bool) -> None:
        state = self._state
        with state.lock:
            if level != state.level:
                return  # a replay of another level's problem: not this level's result
            state.history.append(solved)
            moved = self._rule(level, tuple(state.history), len(self._levels))
            if isinstance(moved, bool) or not isinstance(moved, int):
                raise ConfigError(f"the curriculum rule returned {moved!r}, not a level index")
            moved = min(max(moved, 0), len(self._levels) - 1)
            if moved != level:
                state.level, state.history = moved, []

    def episode_info(self, problem: Problem) -> Mapping[str, Any]:
        state = self._state
        with state.lock:
            history = list(state.history)
        return {
            **super().episode_info(problem),
            "level": problem.data["level"],
            "level_value": problem.data["level_value"],
            "solve_rate": sum(history) / len(history) if history else None,
        }


def _make_rule(rule: Mapping[str, Any] | str) -> Rule:
    """The rule a spec names: a JSON mapping for :class:`ThresholdRule`, or a
    ``"module:attr"`` callable."""
    if isinstance(rule, str):
        made = load(rule, "curriculum rule")
        if not callable(made):
            raise ConfigError(f"the curriculum rule {rule!r} is not callable")
        return made  # type: ignore[no-any-return]
    if isinstance(rule, Mapping):
        try:
            return ThresholdRule(**rule)
        except TypeError as e:
            raise ConfigError(
                f"a curriculum rule takes window, raise_above, lower_below and min_episodes: {e}"
            ) from e
    raise ConfigError(f"rule must be a JSON mapping or a 'module:attr' string, got {rule!r}")
