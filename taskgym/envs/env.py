"""TaskEnv: the one gymnasium env that runs any :class:`~taskgym.core.Task`.

Every registered id is ``TaskEnv`` with different keyword arguments, so an env's whole
configuration is JSON in its ``EnvSpec``. The env owns the episode's bookkeeping (turns,
turn limit, oversized actions, the sandbox's life, the error boundary); the task owns
what is asked and how it is checked; the reward owns what is paid. Beside it:
:mod:`~taskgym.envs.loading` builds a task from its ``"module:Class"``,
:mod:`~taskgym.envs.sandboxing` says which sandbox the task gets, and
:mod:`~taskgym.envs.stages` how a step's calls into task and reward code are run.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable, Mapping
from functools import partial
from types import FrameType
from typing import Any, SupportsFloat, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.wrappers import TimeLimit

from taskgym.core import Outcome, Problem, Reply, Task, Turn, Verdict
from taskgym.envs.loading import load_task
from taskgym.envs.sandboxing import (
    NO_SANDBOX,
    choose_backend,
    kept_warm,
    pool_backend,
    problem_sandbox,
    sandbox_options_for,
)
from taskgym.envs.stages import Stage, StepResult, StepStages, run_stages
from taskgym.errors import (
    ActionTypeError,
    CheckerError,
    ConfigError,
    EpisodeStateError,
    SandboxError,
    TaskgymError,
    UnknownTaskIdError,
)
from taskgym.registry import is_registered
from taskgym.rewards import RewardSpec, make_reward
from taskgym.rewards.builtin import is_quick as is_quick_reward
from taskgym.sandboxes import Sandbox, check_sandbox_options, make_sandbox
from taskgym.sandboxes.pool import SandboxPool
from taskgym.spaces import UnicodeText

__all__ = ["TaskEnv", "make_task_env", "problem_seed"]

DEFAULT_MAX_ACTION_CHARS = 1 << 20
DEFAULT_MAX_OBSERVATION_CHARS = 1 << 20
_CLIP_MARK = "\n[... {} characters cut ...]\n"
_T = TypeVar("_T")


class TaskEnv(gym.Env[str, str]):
    """A text-in, text-out episode on one problem of a task.

    Args:
        task: a :class:`Task`, or a ``"module:Class"`` string built with ``task_options``.
        reward: a reward spec (a name such as ``"binary"``, a JSON mapping, or a callable).
        sandbox: the sandbox backend for tasks that run programs (``"auto"``, ``"local"``...).
        sandbox_options: keyword options for the backend (JSON).
        sandbox_pool: (Python only) a :class:`~taskgym.sandboxes.pool.SandboxPool` to
            lease sandboxes from, shared by several envs; without one, the env keeps its
            own sandbox and resets it between episodes.
        max_turns: the turn limit; at it the episode is truncated and then checked.
            Defaults to the task's own limit (1 for single-turn tasks). A gymnasium
            ``TimeLimit`` over the env (``make(..., max_episode_steps=N)``) lowers it
            for the episodes it resets, and the task's prompts and replies count from
            the limit that holds (:meth:`Task.with_turn_limit
            <taskgym.core.Task.with_turn_limit>`).
        max_action_chars: longer actions end the episode with a zero, unparsed verdict.
        max_observation_chars: longer observations are cut in the middle, with a mark.
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the transcript).
        **task_options: the task's own options (for example ``difficulty="hard"``).

    ``copy.deepcopy`` and ``pickle`` make an env with the same options and no sandbox
    (see :meth:`__deepcopy__`); they refuse, with a TypeError, while an episode runs in
    a sandbox.

    Examples:
        >>> import gymnasium, taskgym
        >>> env = gymnasium.make("taskgym/ArithmeticEasy-v0")
        >>> obs, info = env.reset(seed=0)
        >>> info["family"]
        'math'
    """

    # render_fps means nothing for text, but gymnasium's checker warns without it.
    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 - gymnasium's API

    def __init__(
        self,
        task: Task | str,
        *,
        reward: RewardSpec = "binary",
        sandbox: str = "auto",
        sandbox_options: Mapping[str, Any] | None = None,
        sandbox_pool: SandboxPool | None = None,
        max_turns: int | None = None,
        max_action_chars: int = DEFAULT_MAX_ACTION_CHARS,
        max_observation_chars: int = DEFAULT_MAX_OBSERVATION_CHARS,
        render_mode: str | None = None,
        **task_options: Any,
    ) -> None:
        configured = task if isinstance(task, Task) else load_task(task, task_options)
        if isinstance(task, Task) and task_options:
            raise TypeError(
                f"task options {sorted(task_options)} were given with a ready Task instance; "
                "pass the options to the task's constructor instead"
            )
        self.reward_fn = make_reward(reward)
        execution = configured.execution
        self._needs_sandbox = execution.needs_sandbox
        self._quick_reward = is_quick_reward(self.reward_fn)
        self._quick_interact = "interact" in execution.quick_stages
        self._quick_check = "check" in execution.quick_stages
        self._quick_reset = not execution.needs_sandbox and "problem" in execution.quick_stages
        self.sandbox_pool = sandbox_pool
        self.sandbox_backend = (
            choose_backend(configured, sandbox)
            if sandbox_pool is None
            else pool_backend(configured, sandbox_pool)
        )
        self.sandbox_options = sandbox_options_for(configured, sandbox_options)
        if self._needs_sandbox and sandbox_pool is None:
            check_sandbox_options(self.sandbox_backend, self.sandbox_options)
        self.max_turns = _positive_int(
            "max_turns", max_turns if max_turns is not None else configured.default_max_turns
        )
        # The task as played under each turn limit met so far (see Task.with_turn_limit).
        self._configured_task = configured
        self._tasks_by_limit: dict[int, Task] = {}
        self._problem: Problem | None = None
        self._episode_task = self._task_for(self.max_turns)
        self._episode_max_turns = self.max_turns
        # TimeLimits over the env known from make_task_env, for drivers that reset it
        # directly, past its wrappers (the episode pool).
        self._wrapper_limits: tuple[int, ...] = ()
        self.max_action_chars = _positive_int("max_action_chars", max_action_chars)
        self.max_observation_chars = _positive_int("max_observation_chars", max_observation_chars)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.action_space = UnicodeText(max_length=self.max_action_chars)
        self.observation_space = UnicodeText(max_length=self.max_observation_chars)
        self._transcript: list[Turn] = []
        self._sandbox: Sandbox | None = None
        # What the current sandbox was made for: None for the env's own backend and
        # options, else a problem's (see Task.problem_sandbox).
        self._sandbox_needs: tuple[str, dict[str, Any]] | None = None
        self._outcome: Outcome | None = None
        self._episode_over = True
        # gymnasium's generator, made only when something draws from it (see _np_random).
        self._rng: np.random.Generator | None = None
        self._rng_seed: int | None = None

    # -- what the env holds now --------------------------------------------------------

    @property
    def task(self) -> Task:
        """The task as the current (or next) episode plays it: the task the env was made
        with, told the episode's turn limit when that is not its own default (see
        :meth:`Task.with_turn_limit <taskgym.core.Task.with_turn_limit>`)."""
        return self._episode_task

    @property
    def problem(self) -> Problem:
        """The problem of the current (or last) episode."""
        if self._problem is None:
            raise EpisodeStateError("no problem yet: call reset() first")
        return self._problem

    @property
    def transcript(self) -> tuple[Turn, ...]:
        return tuple(self._transcript)

    @property
    def outcome(self) -> Outcome | None:
        """The outcome of the last finished episode (``None`` while one is running)."""
        return self._outcome

    @property
    def sandbox(self) -> Sandbox | None:
        """The sandbox of the current episode, if the task uses one."""
        return self._sandbox

    # -- the gymnasium API -------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode: on ``options["task_id"]`` when given; else, with a seed,
        on the problem of :func:`problem_seed` of it (the same seed, the same problem),
        and without one on a problem drawn from the env's generator (``np_random``,
        seeded by the last seeded reset, as gymnasium's envs do)."""
        if seed is not None:
            self._seed(seed)
        # Set before the problem is made: its prompt gives the turn limit.
        limit = min([self.max_turns, *self._wrapper_limits, *_time_limits_resetting(self)])
        self._episode_task, self._episode_max_turns = self._task_for(limit), limit
        problem = self._pick_problem(seed, options)
        self._problem, self._transcript, self._outcome = problem, [], None
        if self._needs_sandbox:
            needs = self._guard("problem_sandbox", lambda: self.task.problem_sandbox(problem))
            self._sandbox = self._fresh_sandbox(needs)
            self._guard("setup", lambda: self.task.setup(problem, self._live_sandbox()))
        else:
            self._let_go_of_sandbox()
        self._episode_over = False
        return self._clip(problem.prompt), self._info()

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        return run_stages(self.step_stages(action))

    def step_stages(self, action: str) -> StepStages:
        """:meth:`step` as a generator that makes the quick calls into task and reward
        code itself (:attr:`Execution.quick_stages <taskgym.core.Execution.quick_stages>`,
        the built-in rewards) and yields each call that may block as a
        :class:`~taskgym.envs.stages.Stage`, to be sent back its result, so that a driver
        can run those where blocking is harmless (the episode pool's threads) and the
        rest on its event loop. :meth:`step` runs every stage inline."""
        if self._episode_over:
            raise EpisodeStateError(
                "the episode is over (or never started); call reset() before step()"
            )
        if not isinstance(action, str):
            raise ActionTypeError(
                f"TaskEnv actions are str, got {type(action).__name__}; "
                "decode the model's output to text before step()"
            )
        problem, turn = self.problem, len(self._transcript) + 1
        if len(action) > self.max_action_chars:
            self._transcript.append(Turn(action, ""))
            verdict = Verdict.unparsed(
                f"action of {len(action)} characters is longer than "
                f"max_action_chars={self.max_action_chars}"
            )
            return (yield from self._finishing("", truncated=False, verdict=verdict))
        if not self.task.multi_turn:
            self._transcript.append(Turn(action, ""))
            return (yield from self._finishing("", truncated=False))
        call = (self.task.interact, problem, tuple(self._transcript), action, self._live_sandbox())
        if self._quick_interact:
            reply = self._guard("interact", *call)
        else:
            reply = yield Stage("interact", partial(self._guard, "interact", *call))
        if not isinstance(reply, Reply):
            raise CheckerError(f"{type(self.task).__name__}.interact must return a Reply")
        observation = reply.observation
        if len(observation) > self.max_observation_chars:
            observation = self._clip(observation)
        self._transcript.append(Turn(action, observation))
        if reply.done:
            return (yield from self._finishing(observation, truncated=False))
        if turn >= self._episode_max_turns:
            return (yield from self._finishing(observation, truncated=True))
        return observation, 0.0, False, False, self._info()

    @property
    def quick_reset(self) -> bool:
        """Whether :meth:`reset` is quick pure Python (no sandbox; the task says its
        problems are quick to make), so that an event loop may call it directly."""
        return self._quick_reset

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self._problem is None:
            return None
        parts = [self._problem.prompt]
        for turn in self._transcript:
            parts.append(f"> {turn.action}")
            if turn.observation:
                parts.append(turn.observation)
        return "\n".join(parts) + "\n"

    def close(self) -> None:
        """Close the sandbox (or return it to its pool). Idempotent; ``reset()`` may
        start again."""
        self._let_go_of_sandbox()
        self._episode_over = True

    # -- copies ------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """A pickle of the env: as :meth:`__deepcopy__`; refused for an env that leases
        its sandboxes from a pool, which cannot travel."""
        if self.sandbox_pool is not None:
            raise TypeError(
                "a TaskEnv made with sandbox_pool cannot be pickled: the pool holds live "
                "sandboxes of this process. Pickle an env without one, or send its spec "
                "and make the env where it is needed: gymnasium.make(env.spec)"
            )
        return self._portable_state()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __deepcopy__(self, memo: dict[int, Any]) -> TaskEnv:
        """A copy with the same configuration, generator state and last episode, and no
        sandbox: it makes its own at ``reset()``, so that closing either never touches
        the other's. The task (immutable) and the sandbox pool are shared. Refused
        (TypeError) while an episode runs in a sandbox: its processes and files cannot
        be copied."""
        state = self._portable_state()
        for shared in (self._configured_task, self.sandbox_pool, *self._tasks_by_limit.values()):
            memo[id(shared)] = shared
        twin = type(self).__new__(type(self))
        memo[id(self)] = twin
        twin.__setstate__(copy.deepcopy(state, memo))
        return twin

    def __copy__(self) -> TaskEnv:
        twin = type(self).__new__(type(self))
        twin.__setstate__(self._portable_state())
        return twin

    def _portable_state(self) -> dict[str, Any]:
        if self._needs_sandbox and not self._episode_over:
            raise TypeError(
                f"this {self.spec.id if self.spec else 'TaskEnv'} is in an episode that lives "
                "in its sandbox (processes, files), which cannot be copied or pickled. Copy "
                "it before reset() or after the episode ends (the copy makes a sandbox of "
                "its own), or make another env: gymnasium.make(env.spec)"
            )
        state = dict(self.__dict__)
        # Lists are copied so that a shallow copy's episode never writes into this one's.
        state.update(_sandbox=None, _sandbox_needs=None, _transcript=list(self._transcript))
        return state

    # -- seeding -----------------------------------------------------------------------

    @property  # gymnasium keeps a plain attribute; this one is made lazily
    def _np_random(self) -> np.random.Generator | None:
        """gymnasium's generator, as its ``Env`` keeps it, but made on first use: a seeded
        reset picks its problem from the seed itself (see :func:`problem_seed`), so the
        numpy generator, a tenth of a reset's cost, is built only when something draws
        from it (an unseeded reset, ``env.np_random``, gymnasium's checker)."""
        if self._rng_seed is not None:
            self._rng, _ = seeding.np_random(self._rng_seed)
            self._rng_seed = None
        return self._rng

    @_np_random.setter
    def _np_random(self, value: np.random.Generator | None) -> None:
        self._rng, self._rng_seed = value, None

    def _seed(self, seed: int) -> None:
        """What gymnasium's ``Env.reset(seed=seed)`` does, with the generator made later."""
        if not (isinstance(seed, int) and seed >= 0):
            seeding.np_random(seed)  # raises gymnasium's own error for a bad seed
        self._rng, self._rng_seed, self._np_random_seed = None, seed, seed

    # -- inside an episode -------------------------------------------------------------

    def _pick_problem(self, seed: int | None, options: dict[str, Any] | None) -> Problem:
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError(
                f"reset options must be a dict such as {{'task_id': ...}}, got {options!r}"
            )
        options = dict(options or {})
        task_id = options.pop("task_id", None)
        if options:
            raise ConfigError(f"unknown reset options {sorted(options)}; reset takes 'task_id'")
        if task_id is None:
            if seed is None:
                seed = int(self.np_random.integers(0, 2**31 - 1))
            else:
                seed = problem_seed(seed)
            return self._guard("problem", lambda: self.task.problem(seed))
        if not isinstance(task_id, str):
            raise UnknownTaskIdError(f"task_id must be a str, got {type(task_id).__name__}")
        problem = self._guard("get", lambda: self.task.get(task_id))
        if problem.id != task_id:
            raise CheckerError(f"{type(self.task).__name__}.get({task_id!r}) gave {problem.id!r}")
        return problem

    def _check(self) -> Verdict:
        problem, transcript = self.problem, tuple(self._transcript)
        verdict = self._guard("check", self.task.check, problem, transcript, self._live_sandbox())
        if not isinstance(verdict, Verdict):
            raise CheckerError(f"{type(self.task).__name__}.check must return a Verdict")
        return verdict

    def _finishing(
        self, observation: str, *, truncated: bool, verdict: Verdict | None = None
    ) -> StepStages:
        """The end of an episode: the task's check (unless ``verdict`` is known), then
        the reward, each a stage of its own, so that a blocking check does not take a
        quick reward off the event loop with it."""
        if verdict is None:
            verdict = self._check() if self._quick_check else (yield Stage("check", self._check))
        finish = partial(self._finish, observation, verdict, truncated=truncated)
        if self._quick_reward:
            return finish()
        finished: StepResult = yield Stage("reward", finish)
        return finished

    def _finish(
        self, observation: str, verdict: Verdict, *, truncated: bool
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._episode_over = True
        outcome = Outcome(self.problem, tuple(self._transcript), verdict, truncated)
        self._outcome = outcome
        reward = self._guard("reward", self.reward_fn, outcome)
        if isinstance(reward, bool) or not isinstance(reward, (int, float)):
            raise CheckerError(f"the reward returned {reward!r}, not a float")
        if not math.isfinite(reward):
            raise CheckerError(f"the reward returned {reward!r}; rewards must be finite")
        info = self._info()
        info["verdict"] = verdict.to_dict()
        return observation, float(reward), not truncated, truncated, info

    def _info(self) -> dict[str, Any]:
        problem = self.problem
        extra = self._guard("episode_info", self.task.episode_info, problem)
        return {
            **extra,
            "task_id": problem.id,
            "family": self.task.family,
            "turn": len(self._transcript),
        }

    def _guard(self, stage: str, call: Callable[..., _T], *args: Any) -> _T:
        """``call(*args)`` inside the error boundary: a crash in task or reward code is a
        CheckerError, so that a broken grader never passes for a wrong answer."""
        try:
            return call(*args)
        except TaskgymError:
            raise
        except Exception as e:
            where = f"problem {self._problem.id!r}" if self._problem else "no problem yet"
            raise CheckerError(
                f"{type(self._configured_task).__name__} failed in {stage} ({where}): {e!r}. "
                "This is a bug in the task or reward, not a mistake of the agent."
            ) from e

    def _task_for(self, limit: int) -> Task:
        """The task as played with a turn limit of ``limit`` (made once a limit)."""
        task = self._tasks_by_limit.get(limit)
        if task is None:
            configured = self._configured_task
            if limit == configured.default_max_turns:
                task = configured
            else:
                task = self._guard("with_turn_limit", configured.with_turn_limit, limit)
                if not isinstance(task, Task):
                    raise CheckerError(
                        f"{type(configured).__name__}.with_turn_limit must return a Task"
                    )
            self._tasks_by_limit[limit] = task
        return task

    def _live_sandbox(self) -> Sandbox:
        return self._sandbox if self._sandbox is not None else NO_SANDBOX

    def _clip(self, text: str) -> str:
        limit = self.max_observation_chars
        if len(text) <= limit:
            return text
        mark = _CLIP_MARK.format(len(text) - limit)
        keep = max(limit - len(mark), 0)
        head = keep // 2
        clipped = text[:head] + mark + text[len(text) - (keep - head) :]
        return clipped[:limit]

    def _fresh_sandbox(self, needs: tuple[str, dict[str, Any]] | None = None) -> Sandbox:
        """A sandbox as new for the next episode: the last one reset when it can be (a
        warm start), or one from the pool, or a new one. ``needs``: the problem's own
        backend and options, which neither the pool nor another problem's sandbox has."""
        if needs != self._sandbox_needs:
            self._let_go_of_sandbox()
            self._sandbox, self._sandbox_needs = None, needs
        if needs is not None:
            return self._reused_or(lambda: problem_sandbox(self.problem.id, *needs))
        if self.sandbox_pool is not None:
            self._let_go_of_sandbox()
            return self.sandbox_pool.acquire()
        return self._reused_or(lambda: make_sandbox(self.sandbox_backend, **self.sandbox_options))

    def _reused_or(self, make: Callable[[], Sandbox]) -> Sandbox:
        current = self._sandbox
        if current is not None and not current.closed:
            if kept_warm(self.task, current):
                return current  # as new, with the task's warm processes still running
            try:
                current.reset()
            except (NotImplementedError, SandboxError, OSError):
                current.close()
            else:
                return current
        return make()

    def _let_go_of_sandbox(self) -> None:
        sandbox = self._sandbox
        if sandbox is None or sandbox.closed:
            return
        if self.sandbox_pool is not None and self._sandbox_needs is None:
            self._sandbox = None
            self.sandbox_pool.release(sandbox)
        else:
            sandbox.close()


def make_task_env(env_id: str, **kwargs: Any) -> tuple[gym.Env[str, str], TaskEnv]:
    """``gymnasium.make(env_id, **kwargs)`` and the TaskEnv under its wrappers, for the
    drivers that need taskgym's own API (executors, the episode pool, ``grade_many``).
    An env of another kind is closed and refused with a ConfigError. An id not yet
    registered loads the task plugins first (:func:`taskgym.registry.load_task_plugins`)."""
    is_registered(env_id)
    env: gym.Env[str, str] = gym.make(env_id, **kwargs)
    task_env = env.unwrapped
    if not isinstance(task_env, TaskEnv):
        env.close()
        raise ConfigError(
            f"{env_id} is not a taskgym env (its core is {type(task_env).__name__}); "
            "executors, episode pools and grade_many play envs registered with "
            "taskgym.register_task"
        )
    task_env._wrapper_limits = tuple(_time_limits_over(env))
    return env, task_env


_MASK64 = (1 << 64) - 1


def problem_seed(seed: int) -> int:
    """The seed of the problem that ``reset(seed=seed)`` plays, in ``[0, 2**31 - 1)``:
    ``seed`` scrambled by splitmix64's finaliser, so that neighbouring seeds give
    unrelated problems without building a numpy generator for every reset.

    Examples:
        >>> problem_seed(0) == problem_seed(0) != problem_seed(1)
        True
    """
    z = (seed % _MASK64 + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) % (2**31 - 1)


# How far up the stack a reset looks for the TimeLimit wrappers calling it.
_MAX_WRAPPER_FRAMES = 64
_TIME_LIMIT_RESET = TimeLimit.reset.__code__


def _time_limits_resetting(env: TaskEnv) -> list[int]:
    """The limits of gymnasium ``TimeLimit`` wrappers of ``env`` whose ``reset()`` is
    calling it now (``make(..., max_episode_steps=N)`` or one applied by hand).

    A TimeLimit truncates after the env's step returned an unfinished turn, too late to
    check the episode, and gymnasium gives a wrapped env no reference to its wrappers;
    so the env finds them on the stack of the reset that they pass on to it: up through
    ``reset`` methods (wrappers') and gymnasium's own code, to the first other caller.
    Only a TimeLimit's own frame has its locals read (a few microseconds a reset).
    """
    limits: list[int] = []
    frame: FrameType | None = sys._getframe(2)  # past this function and TaskEnv.reset
    for _ in range(_MAX_WRAPPER_FRAMES):
        if frame is None:
            break
        code = frame.f_code
        if code is _TIME_LIMIT_RESET:
            wrapper = frame.f_locals.get("self")
            steps = getattr(wrapper, "_max_episode_steps", None)
            ours = isinstance(wrapper, TimeLimit) and wrapper.unwrapped is env
            if ours and isinstance(steps, int) and steps > 0:
                limits.append(steps)
        elif code.co_name != "reset" and not _in_gymnasium(frame):
            break
        frame = frame.f_back
    return limits


def _time_limits_over(env: gym.Env[str, str]) -> list[int]:
    """The limits of the gymnasium ``TimeLimit`` wrappers in ``env``'s chain."""
    limits = []
    while isinstance(env, gym.Wrapper):
        if isinstance(env, TimeLimit) and isinstance(env._max_episode_steps, int):
            limits.append(env._max_episode_steps)
        env = env.env
    return limits


def _in_gymnasium(frame: FrameType) -> bool:
    return str(frame.f_globals.get("__name__")).startswith("gymnasium.")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return value
