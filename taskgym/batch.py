"""Batch grading: many single-turn completions scored at once, the call GRPO-style
trainers make after sampling a group of completions per prompt.

Each completion is graded as a one-turn episode of the env, so it gets exactly the
reward and verdict an episode would (same reward spec, action limits and error
boundary). ``workers`` envs grade side by side, each with its own sandbox; code envs keep
their grader process warm between completions (see ``Execution.runs_only_in_zygote``), so a
grading costs a fork, not an interpreter start.

Examples:
    >>> import taskgym
    >>> graded = taskgym.grade_many(
    ...     "taskgym/ArithmeticEasy-v0",
    ...     [("arithmetic-easy-0", "<answer>0</answer>"), ("arithmetic-easy-0", "no")],
    ... )
    >>> [g.verdict.parsed for g in graded]
    [True, False]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskgym.closing import Closing
from taskgym.core import Verdict
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.errors import ConfigError, EpisodeStateError, TaskgymError, UnknownTaskIdError

if TYPE_CHECKING:
    from taskgym.parallel.base import Executor

__all__ = ["Graded", "Grader", "grade_many"]


@dataclass(frozen=True)
class Graded:
    """One completion's result, in the order the completions were given.

    ``error`` is set (and ``reward`` is 0.0, ``verdict`` None) when grading itself failed
    (a broken task, a sandbox that died): the other completions are still graded.
    """

    task_id: str
    reward: float
    verdict: Verdict | None
    error: str | None = None


def grade_many(
    env_id: str,
    completions: Iterable[tuple[str, str]],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    **env_options: Any,
) -> list[Graded]:
    """Grade ``(task_id, completion)`` pairs of a single-turn env.

    Args:
        env_id: a registered env, such as ``"taskgym/CodeTests-v0"``.
        completions: ``(task_id, completion)`` pairs; task ids are those of
            ``reset(options={"task_id": ...})`` (``info["task_id"]`` of an episode).
        workers: how many envs grade side by side (default: the machine's CPU count).
        executor: instead, spread the completions over this executor's workers (a
            :class:`~taskgym.parallel.Executor`: worker processes, Ray actors), each
            completion a one-turn episode played from a spec; ``workers`` must then be
            left out.
        **env_options: what ``gymnasium.make(env_id, ...)`` takes (``reward``,
            ``sandbox``, ``tasks``, ``path``...).

    Raises:
        ConfigError: the env is multi-turn, ``workers`` is not a positive int, or a pair
            is malformed (its index is named); nothing is graded then.
        UnknownTaskIdError: a task id the env does not have (all of them are named).
    """
    pairs = _checked_pairs(completions)
    if executor is not None:
        if workers is not None:
            raise ConfigError("give workers= or executor=, not both")
        return _grade_through(executor, env_id, pairs, env_options)
    with Grader(env_id, workers=workers, **env_options) as grader:
        return grader.grade(pairs)


class Grader(Closing):
    """:func:`grade_many` kept warm: ``workers`` envs of ``env_id`` made once (on first
    use), each with its sandbox and grader process, grading batch after batch. What a
    trainer's reward function holds across steps; close it (or use ``with``) to stop
    the sandboxes.

    Examples:
        >>> with Grader("taskgym/ArithmeticEasy-v0", workers=1) as grader:
        ...     [g.verdict.parsed for g in grader.grade([("arithmetic-easy-0", "no")])]
        [False]
    """

    def __init__(self, env_id: str, *, workers: int | None = None, **env_options: Any) -> None:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be a positive int, got {workers!r}")
        self.env_id = env_id
        self.workers = workers
        self._options = env_options
        self._envs: list[TaskEnv] = [_make(env_id, env_options)]  # bad options fail here
        self._lock = threading.Lock()  # one batch at a time: each env grades one at once

    def grade(self, completions: Iterable[tuple[str, str]]) -> list[Graded]:
        """Grade ``(task_id, completion)`` pairs, as :func:`grade_many` does."""
        pairs = _checked_pairs(completions)
        with self._lock:
            if not self._envs:
                raise EpisodeStateError("this Grader is closed")
            _check_task_ids(self._envs[0], self.env_id, pairs)
            wanted = min(self.workers, len(pairs))
            while len(self._envs) < wanted:
                self._envs.append(_make(self.env_id, self._options))
            envs = self._envs[: max(wanted, 1)]
            results: list[Graded | None] = [None] * len(pairs)
            next_index = iter(range(len(pairs)))
            taking = threading.Lock()

            def work(env: TaskEnv) -> None:
                while True:
                    with taking:
                        index = next(next_index, None)
                    if index is None:
                        return
                    results[index] = _grade_one(env, *pairs[index])

            if len(envs) == 1:
                work(envs[0])
            else:
                with ThreadPoolExecutor(max_workers=len(envs), thread_name_prefix="grade") as pool:
                    for future in [pool.submit(work, env) for env in envs]:
                        future.result()
            return [r for r in results if r is not None]

    def close(self) -> None:
        with self._lock:
            envs, self._envs = self._envs, []
        for env in envs:
            env.close()


def _grade_through(
    executor: Executor, env_id: str, pairs: list[tuple[str, str]], options: dict[str, Any]
) -> list[Graded]:
    from taskgym.parallel.spec import EpisodeSpec  # noqa: PLC0415 - only with an executor

    checker = _make(env_id, options)  # single-turn, and every task id known, here first
    try:
        _check_task_ids(checker, env_id, pairs)
    finally:
        checker.close()
    specs = [
        EpisodeSpec(env_id, task_id=task_id, kwargs=options, actions=(completion,))
        for task_id, completion in pairs
    ]
    graded = []
    for result in executor.map(specs):
        task_id = str(result.spec.task_id)
        if result.record is None:
            graded.append(Graded(task_id, 0.0, None, error=result.error))
            continue
        verdict = result.record.verdict
        graded.append(
            Graded(
                task_id,
                result.record.reward,
                Verdict(
                    bool(verdict["parsed"]),
                    int(verdict["passed"]),
                    int(verdict["total"]),
                    verdict.get("details", {}),
                ),
            )
        )
    return graded


def _checked_pairs(completions: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = list(completions)
    for index, pair in enumerate(pairs):
        if not (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], str)
        ):
            raise ConfigError(
                f"completions[{index}] must be a (task_id, completion) pair of str, "
                f"got {pair!r:.200}"
            )
    return [(task_id, completion) for task_id, completion in pairs]


def _make(env_id: str, options: dict[str, Any]) -> TaskEnv:
    _, env = make_task_env(env_id, disable_env_checker=True, **options)
    if env.task.multi_turn:
        env.close()
        raise ConfigError(
            f"grade_many grades single-turn envs; {env_id} is multi-turn with these options "
            "(for example attempts > 1): play it as episodes instead"
        )
    return env


def _check_task_ids(env: TaskEnv, env_id: str, pairs: list[tuple[str, str]]) -> None:
    unknown = []
    for task_id in dict.fromkeys(task_id for task_id, _ in pairs):
        try:
            env.task.get(task_id)
        except UnknownTaskIdError:
            unknown.append(task_id)
    if unknown:
        shown = ", ".join(repr(t) for t in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise UnknownTaskIdError(
            f"{env_id} has no task {shown}{more}; nothing was graded. Task ids are what "
            "info['task_id'] says after reset()"
        )


def _grade_one(env: TaskEnv, task_id: str, completion: str) -> Graded:
    try:
        env.reset(options={"task_id": task_id})
        _, reward, _, _, _ = env.step(completion)
    except TaskgymError as e:
        return Graded(task_id, 0.0, None, error=f"{type(e).__name__}: {e}")
    outcome = env.outcome
    assert outcome is not None  # a finished single-turn episode always has one
    return Graded(task_id, float(reward), outcome.verdict)
