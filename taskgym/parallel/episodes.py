"""A non-lockstep pool of episodes, for agents that call a model: many episodes in
flight, each stepped when its own action arrives, none waiting for the slowest.

gymnasium's vector envs step every env together, so one slow model reply stalls the
batch. Here each episode is its own handle: ``await episode.step(action)`` whenever the
action is ready. Envs are leased one per episode in flight and kept for the next
episode of the same env id and options, so sandboxes and warm graders are reused. What
may block (a sandbox, a grader process, a model-calling reward) runs in a thread pool;
the stages a task declares quick (:attr:`~taskgym.core.Execution.quick_stages`) run on the
event loop, since a thread hop costs more than they do. ``concurrency`` bounds the
episodes in flight; :meth:`AsyncEpisodePool.start` waits for a free place.

An episode also plays as a chat (:mod:`taskgym.chat`): :meth:`Episode.chat` gives the
messages and tools to send a model, :meth:`Episode.reply` plays the model's reply (every
action it asks for, one step each) and gives the messages to send next, and the record
then holds the whole conversation, for a trainer that rebuilds what it sampled.

Examples:
    >>> import asyncio
    >>> from taskgym.parallel import AsyncEpisodePool, EpisodeSpec
    >>> async def play(pool, seed):
    ...     async with await pool.start(EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=seed)) as ep:
    ...         await ep.step("<answer>0</answer>")
    ...         return ep.done
    >>> async def main():
    ...     async with AsyncEpisodePool(concurrency=8) as pool:
    ...         return await asyncio.gather(*(play(pool, s) for s in range(4)))
    >>> asyncio.run(main())
    [True, True, True, True]

:class:`EpisodePool` is the same for synchronous code (threads), with an event loop of
its own.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import gymnasium as gym

from taskgym.chat import Conversation
from taskgym.closing import AsyncClosing, Closing
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.envs.stages import StepResult, run_stages_async
from taskgym.errors import ConfigError, EpisodeStateError
from taskgym.parallel.loop_threads import LoopThreads
from taskgym.parallel.spec import EpisodeSpec
from taskgym.run_file import EpisodeRecord, public_options
from taskgym.version import __version__

__all__ = ["AsyncEpisodePool", "Episode", "EpisodePool", "SyncEpisode"]

_T = TypeVar("_T")


class Episode(AsyncClosing):
    """One episode in flight: its last observation and info, then ``step`` until
    :attr:`done`. Leave it (``async with``, or :meth:`aclose`) to give its env back."""

    def __init__(self, pool: AsyncEpisodePool, spec: EpisodeSpec, env: gym.Env[str, str]):
        self.spec = spec
        self._pool = pool
        self._env: gym.Env[str, str] | None = env
        self._direct = pool._direct.get(id(env))  # None: step through the wrappers
        self.observation = ""
        self.info: dict[str, Any] = {}
        self.reward = 0.0
        """The sum of the rewards so far."""
        self.terminated = False
        self.truncated = False
        self.actions: list[str] = []
        self.rewards: list[float] = []
        self.observations: list[str] = []
        self.conversation: Conversation | None = None
        """The episode's chat, once :meth:`chat` began it."""
        self._sandbox: str | None = None  # the backend of the sandbox the steps used
        self._started = time.perf_counter()  # the pool resets the env just before
        self._ended = 0.0

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def chat(self, *, tools: str = "native", system: str | None = None) -> list[dict[str, Any]]:
        """Begin the episode as a chat: the system prompt and the first observation;
        send them with :attr:`conversation`'s ``native_tools``. ``tools`` and
        ``system`` as :class:`~taskgym.chat.Conversation` takes them."""
        task = self._live_env().unwrapped.task  # type: ignore[attr-defined]
        self.conversation = Conversation(task, tools=tools, system=system)
        return list(self.conversation.start(self.observations[0]))

    async def reply(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Play a model's reply (an assistant message, tool calls and all): each action
        it asks for is one step, in order; a call that cannot be read is answered with
        what was wrong and costs no step; calls left when the episode ends are answered
        so. Returns the messages that follow the reply (send them with the next request)."""
        chat = self._chat()
        before = len(chat.messages) + 1  # the reply joins first
        planned = chat.read(message)
        for index, action in enumerate(planned):
            if self.done:
                chat.ended(planned[index:])
                break
            if action.action is None:
                chat.refuse(action)
                continue
            observation, *_ = await self.step(action.action)
            chat.observe(action, observation)
        return chat.messages[before:]

    def _chat(self) -> Conversation:
        if self.conversation is None:
            raise EpisodeStateError("reply() before chat(): begin the episode's chat first")
        return self.conversation

    async def step(self, action: str) -> StepResult:
        """Play ``action``; gymnasium's five values come back."""
        env = self._live_env()
        direct = self._direct
        result: StepResult
        if direct is None:
            observation, reward, terminated, truncated, info = await self._pool._run(
                lambda: env.step(action)
            )
            result = (observation, float(reward), terminated, truncated, info)
        else:  # the quick calls here, on the loop; the ones that may block in threads
            result = await run_stages_async(direct.step_stages(action), self._pool._run)
        return self._note(action, result)

    def step_here(self, action: str) -> StepResult:
        """:meth:`step` in the calling thread, blocking it (what :class:`SyncEpisode`
        does: its thread is the only one driving the episode)."""
        env = self._live_env()
        # The TaskEnv itself when the pool reset it past its (passive) wrappers.
        target = self._direct if self._direct is not None else env
        observation, reward, terminated, truncated, info = target.step(action)
        return self._note(action, (observation, float(reward), terminated, truncated, info))

    def _live_env(self) -> gym.Env[str, str]:
        if self._env is None or self.done:
            raise EpisodeStateError("this episode is over: start another from the pool")
        return self._env

    def _note(self, action: str, result: StepResult) -> StepResult:
        observation, reward, terminated, truncated, info = result
        self.observation, self.info = observation, info
        self.reward += float(reward)
        self.rewards.append(float(reward))
        self.terminated, self.truncated = bool(terminated), bool(truncated)
        if self.terminated or self.truncated:
            self._ended = time.perf_counter()
        if self._env is not None:
            sandbox = getattr(self._env.unwrapped, "sandbox", None)
            self._sandbox = getattr(sandbox, "backend", self._sandbox)
        self.actions.append(action)
        self.observations.append(observation)
        return observation, float(reward), self.terminated, self.truncated, info

    @property
    def record(self) -> EpisodeRecord:
        """The episode so far as a run-file record (what ``taskgym run`` writes)."""
        return EpisodeRecord(
            env_id=self.spec.env_id,
            episode=self.spec.episode,
            seed=self.spec.seed,
            agent=self.spec.agent,
            task_id=str(self.info.get("task_id", self.spec.task_id)),
            actions=list(self.actions),
            observations=list(self.observations),
            reward=self.reward,
            terminated=self.terminated,
            truncated=self.truncated,
            verdict=dict(self.info.get("verdict", {})),
            rewards=list(self.rewards),
            messages=list(self.conversation.messages) if self.conversation else [],
            tools=self.conversation.native_tools if self.conversation else [],
            options=dict(self.spec.kwargs),
            agent_options=public_options(self.spec.agent_options),
            sandbox=self._sandbox,
            seconds=(self._ended or time.perf_counter()) - self._started,
            taskgym_version=__version__,
            sample=self.spec.sample,
        )

    async def aclose(self) -> None:
        env, self._env = self._env, None
        if env is not None:
            self._pool._give_back(self.spec, env)


class AsyncEpisodePool(AsyncClosing):
    """Episodes in flight on one event loop, their envs stepped in ``threads`` threads
    (default: ``concurrency``, at most 32). Use it as an async context manager, or call
    :meth:`aclose`."""

    def __init__(self, concurrency: int = 64, *, threads: int | None = None) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency must be an int >= 1, got {concurrency!r}")
        self.concurrency = concurrency
        self._threads = LoopThreads(threads or min(concurrency, 32), name="taskgym-episode")
        self._places = asyncio.Semaphore(concurrency)
        self._idle: dict[str, collections.deque[gym.Env[str, str]]] = {}
        self._all: list[gym.Env[str, str]] = []
        # The TaskEnv under each env whose wrappers only check call order and types
        # (gymnasium.make's defaults), which the pool may then drive stage by stage.
        self._direct: dict[int, TaskEnv] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def start(self, spec: EpisodeSpec) -> Episode:
        """Reset an env for ``spec`` (waiting for a place among ``concurrency``) and
        return the episode, its first observation in :attr:`Episode.observation`."""
        if self._closed:
            raise EpisodeStateError("this episode pool is closed")
        await self._places.acquire()
        try:
            env = self._idle_env(spec)
            if env is None:
                env = await self._run(lambda: self._make(spec))
            episode = Episode(self, spec, env)
            options = {"task_id": spec.task_id} if spec.task_id is not None else None
            direct = episode._direct
            if direct is not None and direct.quick_reset:
                observation, info = direct.reset(seed=spec.seed, options=options)
            else:
                observation, info = await self._run(
                    lambda: env.reset(seed=spec.seed, options=options)
                )
        except BaseException:
            self._places.release()
            raise
        episode.observation, episode.info = observation, info
        episode.observations.append(observation)
        return episode

    async def _run(self, call: Callable[[], _T]) -> _T:
        return await self._threads.run(call)

    def _idle_env(self, spec: EpisodeSpec) -> gym.Env[str, str] | None:
        with self._lock:
            idle = self._idle.get(spec.env_key)
            return idle.popleft() if idle else None

    def _make(self, spec: EpisodeSpec) -> gym.Env[str, str]:
        env, _ = make_task_env(spec.env_id, **dict(spec.kwargs))
        with self._lock:
            self._all.append(env)
            direct = _direct_task_env(env)
            if direct is not None:
                self._direct[id(env)] = direct
        return env

    def _give_back(self, spec: EpisodeSpec, env: gym.Env[str, str]) -> None:
        with self._lock:
            self._idle.setdefault(spec.env_key, collections.deque()).append(env)
        self._places.release()

    async def aclose(self) -> None:
        """Close every env (from the threads, as their sandboxes expect) and the threads."""
        self._closed = True
        with self._lock:
            envs, self._all, self._idle, self._direct = self._all, [], {}, {}
        for env in envs:
            await self._run(env.close)
        self._threads.shutdown()


_PASSIVE_WRAPPERS = (gym.wrappers.OrderEnforcing, gym.wrappers.PassiveEnvChecker)


def _direct_task_env(env: gym.Env[str, str]) -> TaskEnv | None:
    """The TaskEnv under ``env`` if its wrappers only check (TaskEnv checks call order
    and action types itself), else None: a wrapper that changes anything (a time limit,
    the user's own) must see every step."""
    while isinstance(env, gym.Wrapper):
        if type(env) not in _PASSIVE_WRAPPERS:
            return None
        env = env.env
    return env if isinstance(env, TaskEnv) else None


class SyncEpisode(Closing):
    """An :class:`Episode` of an :class:`EpisodePool`, driven from synchronous code."""

    def __init__(self, pool: EpisodePool, episode: Episode) -> None:
        self._pool = pool
        self._episode = episode

    @property
    def observation(self) -> str:
        return self._episode.observation

    @property
    def info(self) -> dict[str, Any]:
        return self._episode.info

    @property
    def done(self) -> bool:
        return self._episode.done

    @property
    def record(self) -> EpisodeRecord:
        return self._episode.record

    def step(self, action: str) -> StepResult:
        # Here, not on the pool's loop: a hop there and back would cost more than most
        # steps, and this thread is the only one driving the episode.
        return self._episode.step_here(action)

    def chat(self, *, tools: str = "native", system: str | None = None) -> list[dict[str, Any]]:
        """:meth:`Episode.chat`."""
        return self._episode.chat(tools=tools, system=system)

    @property
    def conversation(self) -> Conversation | None:
        return self._episode.conversation

    def reply(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """:meth:`Episode.reply`, on the pool's loop."""
        return self._pool._call(self._episode.reply(message))

    def close(self) -> None:
        self._pool._call(self._episode.aclose())


class EpisodePool(Closing):
    """:class:`AsyncEpisodePool` for threads: its loop runs in a thread of its own, and
    ``start`` / ``step`` block the calling thread only. Many threads may drive episodes
    at once (one thread an episode)."""

    def __init__(self, concurrency: int = 64, *, threads: int | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="taskgym-episode-loop", daemon=True
        )
        self._thread.start()

        async def make() -> AsyncEpisodePool:
            return AsyncEpisodePool(concurrency, threads=threads)

        self._pool = self._call(make())

    def start(self, spec: EpisodeSpec) -> SyncEpisode:
        return SyncEpisode(self, self._call(self._pool.start(spec)))

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._call(self._pool.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
