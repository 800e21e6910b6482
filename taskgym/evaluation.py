"""Scores a researcher can compare: pass@k from several samples a problem, with
confidence intervals, per env and per task; replaying a run file's episodes; and
regrading stored episodes with today's graders (the check of a grader fix against past
runs).

pass@k is the chance that at least one of k samples of a problem solves it, estimated
without bias from n >= k samples of which c solved it (Chen et al., 2021):
``1 - C(n-c, k) / C(n, k)``, averaged over the problems. Its 95% interval comes from a
bootstrap over the problems (the samples of a problem stay together), with a fixed seed
so a report is the same each time; with fewer than :data:`MIN_PROBLEMS_FOR_INTERVAL`
problems there is no interval (it would not mean anything).

A sample is solved when its verdict says so (``solved``), else when its reward is 1.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import comb
from typing import Any

from taskgym.errors import ConfigError

__all__ = [
    "MIN_PROBLEMS_FOR_INTERVAL",
    "PassAtK",
    "Regraded",
    "pass_at_k",
    "pass_at_k_table",
    "regrade",
    "replay_specs",
    "solved",
]

MIN_PROBLEMS_FOR_INTERVAL = 5
_BOOTSTRAP_ROUNDS = 1000


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem with ``c`` of ``n`` samples solved.

    Examples:
        >>> pass_at_k(10, 0, 1), pass_at_k(10, 10, 5), round(pass_at_k(10, 3, 1), 3)
        (0.0, 1.0, 0.3)
        >>> round(pass_at_k(10, 3, 5), 4)
        0.9167
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ConfigError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def solved(record: Mapping[str, Any]) -> bool:
    """Whether a run record's episode solved its problem."""
    verdict = record.get("verdict") or {}
    if isinstance(verdict, Mapping) and "solved" in verdict:
        return bool(verdict["solved"])
    return float(record.get("reward", 0.0)) >= 1.0


@dataclass(frozen=True)
class PassAtK:
    """pass@k of one env, or of one task (``task_id`` set), over its problems."""

    env_id: str
    task_id: str | None
    problems: int
    samples: int
    """Samples a problem (the fewest any problem had: k is bounded by it)."""
    pass_at: dict[int, float] = field(default_factory=dict)
    interval: dict[int, tuple[float, float]] = field(default_factory=dict)
    """The 95% bootstrap interval of each pass@k (none for few problems)."""
    mean_reward: float = 0.0


def pass_at_k_table(
    records: Iterable[Mapping[str, Any]], ks: Sequence[int] = (1,), *, per_task: bool = False
) -> list[PassAtK]:
    """pass@k for each k in ``ks`` (those no larger than the samples a problem), one row
    an env in order of first appearance, or one a (env, task) with ``per_task``."""
    groups: dict[tuple[str, str | None], dict[str, list[Mapping[str, Any]]]] = {}
    for record in records:
        env_id, task_id = str(record["env_id"]), str(record["task_id"])
        key = (env_id, task_id if per_task else None)
        groups.setdefault(key, {}).setdefault(task_id, []).append(record)
    return [_row(env_id, task_id, problems, ks) for (env_id, task_id), problems in groups.items()]


def _row(
    env_id: str,
    task_id: str | None,
    problems: Mapping[str, list[Mapping[str, Any]]],
    ks: Sequence[int],
) -> PassAtK:
    counts = [(len(samples), sum(map(solved, samples))) for samples in problems.values()]
    fewest = min(n for n, _ in counts)
    rewards = [float(r.get("reward", 0.0)) for samples in problems.values() for r in samples]
    row = PassAtK(env_id, task_id, len(counts), fewest, mean_reward=sum(rewards) / len(rewards))
    for k in sorted(set(ks)):
        if k > fewest:
            continue
        scores = [pass_at_k(n, c, k) for n, c in counts]
        row.pass_at[k] = sum(scores) / len(scores)
        if len(scores) >= MIN_PROBLEMS_FOR_INTERVAL:
            row.interval[k] = _bootstrap(scores)
    return row


def _bootstrap(scores: Sequence[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the mean over problems resampled."""
    generator = random.Random(0)  # the same interval every time for the same scores
    size = len(scores)
    means = sorted(
        sum(scores[generator.randrange(size)] for _ in range(size)) / size
        for _ in range(_BOOTSTRAP_ROUNDS)
    )
    return means[int(0.025 * _BOOTSTRAP_ROUNDS)], means[int(0.975 * _BOOTSTRAP_ROUNDS) - 1]


def replay_specs(
    records: Iterable[Mapping[str, Any]], *, actions: bool = True, reward: Any = None
) -> list[Any]:
    """:class:`~taskgym.parallel.EpisodeSpec` values that play a run's episodes again:
    the same env, make options, seed and problem, and either the recorded actions
    (``actions``: a scripted agent, which must reach the same rewards with the same
    graders) or the recorded agent with its settings. ``reward`` (a reward spec)
    replaces the recorded one."""
    from taskgym.parallel.spec import EpisodeSpec  # noqa: PLC0415 - parallel sits above

    specs = []
    for number, record in enumerate(records):
        options = dict(record.get("options") or {})
        if reward is not None:
            options["reward"] = reward
        played = tuple(str(a) for a in record["actions"]) if actions else None
        specs.append(
            EpisodeSpec(
                str(record["env_id"]),
                seed=int(record.get("seed", 0)),
                task_id=str(record["task_id"]),
                kwargs=options,
                agent=str(record.get("agent", "oracle")),
                agent_options=dict(record.get("agent_options") or {}),
                actions=played,
                episode=int(record.get("episode", number)),
                sample=int(record.get("sample", 0)),
            )
        )
    return specs


@dataclass(frozen=True)
class Regraded:
    """One stored episode graded again: its old and new reward and verdict."""

    episode: int
    env_id: str
    task_id: str
    old_reward: float
    new_reward: float | None
    old_verdict: dict[str, Any]
    new_verdict: dict[str, Any]
    error: str | None = None
    """Why it could not be graded again (the env cannot be made here, a grader failed)."""

    @property
    def changed(self) -> bool:
        """Whether the reward or the verdict's outcome differ (details aside)."""
        if self.error is not None or self.new_reward is None:
            return True
        keys = ("parsed", "passed", "total", "solved")
        return self.old_reward != self.new_reward or any(
            self.old_verdict.get(k) != self.new_verdict.get(k) for k in keys
        )


def regrade(
    records: Sequence[Mapping[str, Any]], *, reward: Any = None, executor: Any = None
) -> list[Regraded]:
    """Grade a run's episodes again with today's graders (and ``reward``, a reward spec,
    if given), replaying each episode's recorded actions without its agent; one result
    an episode, in order. ``executor`` (a taskgym executor) plays them; by default an
    inline one."""
    from taskgym.parallel import make_executor  # noqa: PLC0415 - parallel sits above

    specs = replay_specs(records, actions=True, reward=reward)
    own = executor is None
    runner = make_executor("inline") if own else executor
    try:
        results = list(runner.map(specs))
    finally:
        if own:
            runner.close()
    regraded = []
    for record, result in zip(records, results, strict=True):
        new = result.record
        regraded.append(
            Regraded(
                episode=int(record.get("episode", 0)),
                env_id=str(record["env_id"]),
                task_id=str(record["task_id"]),
                old_reward=float(record["reward"]),
                new_reward=None if new is None else new.reward,
                old_verdict=dict(record.get("verdict") or {}),
                new_verdict={} if new is None else dict(new.verdict),
                error=result.error,
            )
        )
    return regraded
