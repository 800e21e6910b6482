"""A task whose problems each belong to one of several inner tasks, which checks,
answers and sets up each problem as its own task would: the base of the mixture and the
curriculum.

What an env needs to know of a task before any problem (whether it uses a sandbox, which
backends, its turn limit, its tools) is merged over the inner tasks: a sandbox if any
needs one, in a backend they all allow; the most turns any allows; every tool.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from taskgym.core import Execution, Problem, Reply, Task, Tool, Turn, Verdict
from taskgym.envs.composite.sources import inner_problem
from taskgym.errors import ConfigError

if TYPE_CHECKING:
    from taskgym.sandboxes.base import Sandbox

__all__ = ["DelegatingTask", "merged_execution"]


class DelegatingTask(Task):
    """Subclasses set up their inner tasks, then call :meth:`_merge`, and say which inner
    task a problem is of (:meth:`task_of`)."""

    @abc.abstractmethod
    def inner_tasks(self) -> Sequence[Task]:
        """Every inner task."""

    @abc.abstractmethod
    def task_of(self, problem: Problem) -> Task:
        """The inner task ``problem`` (one of this task's) belongs to."""

    @abc.abstractmethod
    def _with_inner(self, tasks: Sequence[Task]) -> DelegatingTask:
        """A copy playing ``tasks`` (in :meth:`inner_tasks`'s order) instead."""

    def _merge(self) -> None:
        """Set the execution hints the env reads from the inner tasks'."""
        object.__setattr__(self, "execution", merged_execution(self.inner_tasks()))

    # -- what the env reads before a problem ----------------------------------------------

    @property
    def multi_turn(self) -> bool:
        return any(task.multi_turn for task in self.inner_tasks())

    @property
    def default_max_turns(self) -> int:
        return max(task.default_max_turns for task in self.inner_tasks())

    def with_turn_limit(self, max_turns: int) -> Task:
        return self._with_inner([t.with_turn_limit(max_turns) for t in self.inner_tasks()])

    def sandbox_options(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for task in self.inner_tasks():
            for key, value in task.sandbox_options().items():
                if merged.setdefault(key, value) != value:
                    raise ConfigError(
                        f"the inner tasks need different sandbox option {key!r} "
                        f"({merged[key]!r}, {value!r}): mix tasks that agree"
                    )
        return merged

    def tools(self) -> Sequence[Tool]:
        found: dict[str, Tool] = {}
        for task in self.inner_tasks():
            for tool in task.tools():
                found.setdefault(tool.name, tool)
        return tuple(found.values())

    def keep_warm(self, sandbox: Sandbox) -> bool:
        users = [t for t in self.inner_tasks() if t.execution.needs_sandbox]
        return len(users) == 1 and users[0].keep_warm(sandbox)

    # -- each problem, as its own task -----------------------------------------------------

    def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        return self.task_of(problem).problem_sandbox(inner_problem(problem))

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        task = self.task_of(problem)
        if task.execution.needs_sandbox:
            task.setup(inner_problem(problem), sandbox)

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        task = self.task_of(problem)
        if not task.multi_turn:  # one answer ends it, as it would on its own
            return Reply("", done=True)
        return task.interact(inner_problem(problem), transcript, action, sandbox)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return self.task_of(problem).check(inner_problem(problem), transcript, sandbox)

    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        task = self.task_of(problem)
        if task is not self.task_of(other):
            return False
        return task.may_share_answer(inner_problem(problem), inner_problem(other))

    def near_misses(self, problem: Problem) -> Mapping[str, tuple[str, ...]]:
        return self.task_of(problem).near_misses(inner_problem(problem))

    def episode_info(self, problem: Problem) -> Mapping[str, Any]:
        return self.task_of(problem).episode_info(inner_problem(problem))

    def _copy_with(self, **private: Any) -> Any:
        """A shallow copy with private attributes replaced (the dataclass is frozen)."""
        made = copy.copy(self)
        for name, value in private.items():
            object.__setattr__(made, name, value)
        made._merge()
        return made


def merged_execution(tasks: Sequence[Task]) -> Execution:
    """One :class:`Execution` for episodes of any of ``tasks``: a sandbox if one needs it,
    in a backend every one that names backends allows (the first's order), only in the
    zygote if every one that needs a sandbox does, hidden tests if any has them, and a
    stage quick only if it is for all."""
    users = [t.execution for t in tasks if t.execution.needs_sandbox]
    quick = set.intersection(*(set(t.execution.quick_stages) for t in tasks)) if tasks else set()
    if not users:
        return Execution(quick_stages=quick)
    named = [e.sandbox_backends for e in users if e.sandbox_backends]
    backends = [b for b in named[0] if all(b in n for n in named[1:])] if named else []
    if named and not backends:
        raise ConfigError(
            f"the inner tasks allow no sandbox backend in common ({named}): mix tasks that "
            "can run in the same backend"
        )
    return Execution(
        needs_sandbox=True,
        sandbox_backends=tuple(backends),
        runs_only_in_zygote=all(e.runs_only_in_zygote for e in users),
        hides_tests=any(e.hides_tests for e in users),
        quick_stages=quick,
    )
