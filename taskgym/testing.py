"""Conformance checks every registered env gets for free.

``check_task(env_id)`` raises :class:`~taskgym.errors.ConformanceError` naming the
first broken rule. The rules:

1. gymnasium's ``check_env`` passes on the unwrapped env.
2. ``problem(seed)`` is a pure function of the seed; ``get(problem.id)`` returns it; a
   seeded ``reset`` gives the same observation and info twice.
3. The reference solution (the oracle) earns the top reward, 1.0, with a solved verdict.
4. Empty, random, 1 MB and over-long actions raise nothing and earn nothing.
4a. Another problem's reference solution earns less than full reward (unless the two
    references are the same or :meth:`~taskgym.core.Task.may_share_answer` says it
    may rightly), so a check that accepts any well-formed answer is caught.
4b. Each of the task's :meth:`~taskgym.core.Task.near_misses` (by default the reference
    short of its last action, or its final number off by one or negated) earns less
    than full reward.
5. Verdicts and the env's spec are JSON; ``info`` carries ``task_id`` and ``family``.
6. After ``close()`` the episode's sandbox is closed and its files are gone.

Examples:
    >>> import taskgym
    >>> from taskgym.testing import check_task
    >>> check_task("taskgym/ArithmeticEasy-v0", seeds=2)
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium.utils.env_checker import check_env

from taskgym.envs.env import TaskEnv, make_task_env, problem_seed
from taskgym.errors import ConfigError, ConformanceError
from taskgym.registry import env_info

__all__ = ["check_task"]

Policy = Callable[[TaskEnv, int], str]


def check_task(env_id: str, *, seeds: int = 3, **make_kwargs: Any) -> None:
    """Run every conformance rule on ``env_id`` over ``seeds`` seeds; ``make_kwargs`` go
    to ``gymnasium.make`` (for envs that need a data file, say)."""
    env = _make(env_id, make_kwargs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # gymnasium reports many problems as warnings
            try:
                check_env(env)
            except Exception as e:
                raise ConformanceError(f"{env_id}: gymnasium check_env failed: {e}") from e
        _stage(env_id, "family", lambda: _check_family(env_id, env))
        _stage(env_id, "determinism", lambda: _check_determinism(env_id, env, seeds))
        for seed in range(seeds):
            _stage(env_id, "oracle", lambda: _check_oracle(env_id, env, seed))  # noqa: B023
            _stage(env_id, "worthless actions", lambda: _check_worthless_actions(env_id, env, seed))  # noqa: B023
            _stage(env_id, "cross-check", lambda: _check_other_reference(env_id, env, seed))  # noqa: B023
            _stage(env_id, "near misses", lambda: _check_near_misses(env_id, env, seed))  # noqa: B023
        _stage(env_id, "spec", lambda: _check_spec_json(env_id, env))
    finally:
        env.close()
    _stage(env_id, "close", lambda: _check_closed(env_id, make_kwargs))


def _stage(env_id: str, name: str, check: Callable[[], None]) -> None:
    """Run one check; an unexpected exception is a conformance failure of that stage."""
    try:
        check()
    except ConformanceError:
        raise
    except Exception as e:
        raise ConformanceError(f"{env_id}: the {name} check raised {e!r}") from e


def _make(env_id: str, make_kwargs: dict[str, Any]) -> TaskEnv:
    try:
        _, env = make_task_env(env_id, **make_kwargs)
    except ConfigError as e:  # a conformance check reports every failure as its own kind
        raise ConformanceError(str(e)) from e
    return env


def _fail(env_id: str, message: str) -> ConformanceError:
    return ConformanceError(f"{env_id}: {message}")


def _check_family(env_id: str, env: TaskEnv) -> None:
    registered = env_info(env_id).family
    if env.task.family != registered:
        raise _fail(env_id, f"registered as family {registered!r}, task says {env.task.family!r}")


def _check_determinism(env_id: str, env: TaskEnv, seeds: int) -> None:
    ids = set()
    for seed in range(seeds):
        first, again = env.task.problem(seed), env.task.problem(seed)
        if first != again:
            raise _fail(env_id, f"problem({seed}) differs between two calls")
        if env.task.get(first.id) != first:
            raise _fail(env_id, f"get({first.id!r}) is not problem({seed})")
        ids.add(first.id)
        obs_a, info_a = env.reset(seed=seed)
        obs_b, info_b = env.reset(seed=seed)
        if (obs_a, info_a) != (obs_b, info_b):
            raise _fail(env_id, f"reset(seed={seed}) is not deterministic")
        if not {"task_id", "family"} <= set(info_a):
            raise _fail(env_id, "reset info lacks task_id or family")
        replay, _ = env.reset(options={"task_id": info_a["task_id"]})
        if replay != obs_a:
            raise _fail(env_id, f"reset(options={{'task_id': {info_a['task_id']!r}}}) differs")
    if seeds > 1 and len(ids) == 1:
        raise _fail(env_id, f"problem() gave the same problem for {seeds} seeds")


def _play(env: TaskEnv, seed: int, policy: Policy) -> tuple[float, dict[str, Any]]:
    env.reset(seed=seed)
    turn, terminated, truncated, total = 0, False, False, 0.0
    info: dict[str, Any] = {}
    while not (terminated or truncated):
        _, reward, terminated, truncated, info = env.step(policy(env, turn))
        total += float(reward)
        turn += 1
    return total, info


def _check_oracle(env_id: str, env: TaskEnv, seed: int) -> None:
    def oracle(e: TaskEnv, turn: int) -> str:
        plan = e.problem.solution
        return plan[turn] if turn < len(plan) else ""

    reward, info = _play(env, seed, oracle)
    verdict = info.get("verdict")
    if not isinstance(verdict, dict) or not verdict.get("solved") or reward != 1.0:
        raise _fail(
            env_id, f"the reference solution earned {reward} (verdict {verdict}) on seed {seed}"
        )
    json.dumps(verdict)


def _check_worthless_actions(env_id: str, env: TaskEnv, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Lone surrogates included: no UTF-8 encoder accepts them, and models can emit them.
    alphabet = np.array(list("abcxyz019 +-*/()[]{}<>\n\t\"'`#=_.,;:!?~€≤π中😀\ud800\udcff"))
    megabyte = "".join(rng.choice(alphabet, size=1_000_000))
    env.action_space.seed(seed)
    policies: dict[str, Policy] = {
        "empty": lambda e, t: "",
        "random": lambda e, t: e.action_space.sample(),
        "1 MB": lambda e, t: megabyte,
        "over-long": lambda e, t: "7" * (e.max_action_chars + 1),
    }
    for name, policy in policies.items():
        try:
            reward, info = _play(env, seed, policy)
        except Exception as e:
            raise _fail(env_id, f"a {name} action raised {e!r} on seed {seed}") from e
        if reward > 0.0 or info.get("verdict", {}).get("solved"):
            raise _fail(env_id, f"a {name} action earned {reward} on seed {seed}")


def _playing(plan: tuple[str, ...]) -> Policy:
    """Play ``plan``, then empty actions until the episode ends."""
    return lambda e, turn: plan[turn] if turn < len(plan) else ""


def _full_reward(reward: float, info: dict[str, Any]) -> bool:
    verdict = info.get("verdict")
    return reward >= 1.0 or (isinstance(verdict, dict) and bool(verdict.get("solved")))


def _check_other_reference(env_id: str, env: TaskEnv, seed: int) -> None:
    own = env.task.problem(problem_seed(seed))  # what reset(seed=seed) plays
    other = env.task.problem(problem_seed(seed + 1))
    if other.solution == own.solution or env.task.may_share_answer(own, other):
        return
    reward, info = _play(env, seed, _playing(other.solution))
    if _full_reward(reward, info):
        raise _fail(
            env_id,
            f"the reference solution of problem {other.id!r} earned {reward} on problem "
            f"{own.id!r} (seed {seed}; verdict {info.get('verdict')}): the check accepts "
            "another problem's answer. If that answer may rightly solve this problem "
            "too, say so in the task's may_share_answer()",
        )


def _check_near_misses(env_id: str, env: TaskEnv, seed: int) -> None:
    problem = env.task.problem(problem_seed(seed))
    for why, plan in env.task.near_misses(problem).items():
        if not plan or tuple(plan) == problem.solution:
            continue
        reward, info = _play(env, seed, _playing(tuple(plan)))
        if _full_reward(reward, info):
            last = plan[-1] if len(plan[-1]) <= 200 else f"{plan[-1][:200]}..."
            raise _fail(
                env_id,
                f"a near miss ({why}, last action {last!r}) earned {reward} on problem "
                f"{problem.id!r} (seed {seed}; verdict {info.get('verdict')}): the check "
                "accepts an almost-right answer",
            )


def _check_spec_json(env_id: str, env: TaskEnv) -> None:
    if env.spec is None:
        raise _fail(env_id, "has no spec; register it with taskgym.register_task")
    try:
        env.spec.to_json()
    except Exception as e:
        raise _fail(env_id, f"its spec is not JSON: {e}") from e


def _check_closed(env_id: str, make_kwargs: dict[str, Any]) -> None:
    env = _make(env_id, make_kwargs)
    env.reset(seed=0)
    sandbox = env.sandbox
    env.close()
    if sandbox is None:
        if env.task.execution.needs_sandbox:
            raise _fail(env_id, "the task needs a sandbox but reset() made none")
        return
    if not sandbox.closed:
        raise _fail(env_id, "the sandbox is still open after close()")
    workdir = getattr(sandbox, "workdir", None)
    if isinstance(workdir, str) and os.path.exists(workdir):
        raise _fail(env_id, f"the sandbox's work directory {workdir} survived close()")
