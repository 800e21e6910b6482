"""One OpenEnv session: a taskgym env (``gymnasium.make``) with its own sandbox, played
through OpenEnv's ``Environment`` interface.

OpenEnv's server makes one :class:`TaskgymEnvironment` a WebSocket session and closes it
when the session ends (the client closed or vanished, the session sat idle past the
limit, the server stops). The gymnasium env is made at the first reset, so a session
that only connects costs a few objects, not a sandbox; closing it closes the env and so
its sandbox. Sessions share nothing: each has its own env, sandbox and conversation.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import uuid
import weakref
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from taskgym.chat import Conversation, PlannedAction, tool_schemas
from taskgym.envs.stages import StepResult, run_stages_async
from taskgym.errors import ConfigError, EpisodeStateError
from taskgym.serving.models import TaskgymAction, TaskgymObservation, TaskgymState

if TYPE_CHECKING:
    from taskgym.envs.env import TaskEnv

__all__ = ["ServedEnvs", "TaskgymEnvironment"]

_RESET_KEYS = ("seed", "episode_id", "task_id", "env_id", "tools")


@dataclass
class ServedEnvs:
    """The envs a server offers (env id -> ``gymnasium.make``'s keyword arguments; the
    first is played when a reset names none) and the sessions now open."""

    envs: Mapping[str, Mapping[str, Any]]
    open_sessions: weakref.WeakSet[TaskgymEnvironment] = field(default_factory=weakref.WeakSet)

    def __post_init__(self) -> None:
        if not self.envs:
            raise ConfigError("a server needs at least one env id")

    @property
    def default(self) -> str:
        return next(iter(self.envs))

    def kwargs(self, env_id: str | None) -> tuple[str, dict[str, Any]]:
        """The env id a reset asked for (the default when None) and its make options."""
        chosen = self.default if env_id is None else env_id
        if chosen not in self.envs:
            raise ConfigError(
                f"this server plays {', '.join(self.envs)}; reset with one of them as "
                f"env_id, not {env_id!r}"
            )
        return chosen, dict(self.envs[chosen])

    def tools(self) -> dict[str, list[dict[str, Any]]]:
        """Each env's tools (OpenAI ``tools`` entries). Each env is made once for it
        (no sandbox: that comes with a reset), so a bad option fails at start."""
        from taskgym.envs.env import make_task_env  # noqa: PLC0415

        found = {}
        for env_id, options in self.envs.items():
            env, task_env = make_task_env(env_id, **dict(options))
            try:
                found[env_id] = tool_schemas(task_env.task)
            finally:
                env.close()
        return found

    def close_all(self) -> None:
        """Close every session still open (the server is stopping)."""
        for session in list(self.open_sessions):
            session.close()


class TaskgymEnvironment(Environment[TaskgymAction, TaskgymObservation, TaskgymState]):
    """A taskgym env as an OpenEnv environment, one a session."""

    SUPPORTS_CONCURRENT_SESSIONS = True  # each session has its own env and sandbox

    def __init__(self, served: ServedEnvs) -> None:
        super().__init__()
        self._served = served
        self._env: Any = None  # the gymnasium env (wrappers and all)
        self._task_env: TaskEnv | None = None  # the TaskEnv under them
        self._executor: ThreadPoolExecutor | None = None
        self._activity: Callable[[bool], None] = _no_activity
        self._env_id = ""
        self._chat: Conversation | None = None
        self._episode = _Episode()
        self._closed = False
        # close() comes from OpenEnv's session thread, or from the shutdown hook.
        self._lock = threading.Lock()
        served.open_sessions.add(self)

    # -- OpenEnv's interface -------------------------------------------------------------

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        env_id: str | None = None,
        tools: str = "native",
        **unknown: Any,
    ) -> TaskgymObservation:
        """Start an episode: of ``env_id`` (the server's first env by default), on
        problem ``task_id`` or the problem of ``seed``; ``tools`` is how the system
        prompt tells a chat model to act (``native``, ``text`` or ``off``)."""
        if unknown:
            raise ConfigError(
                f"reset takes {', '.join(_RESET_KEYS)}; got unknown {', '.join(sorted(unknown))}"
            )
        with self._lock:
            env = self._env_for(env_id)
            options = {"task_id": task_id} if task_id is not None else None
            observation, info = env.reset(seed=seed, options=options)
            self._chat = Conversation(env.unwrapped.task, tools=tools)
            messages = self._chat.start(observation)
            plain = dict(info)  # JSON, by TaskEnv's contract
            self._episode = _Episode(
                episode_id or str(uuid.uuid4()), self._env_id, str(info["task_id"]), done=False
            )
            # Built from trusted values: pydantic's validation is skipped (a hot path).
            started: TaskgymObservation = TaskgymObservation.model_construct(
                text=observation,
                messages=list(messages),
                tools=self._chat.native_tools,
                env_id=self._env_id,
                task_id=str(info["task_id"]),
                turn=0,
                truncated=False,
                verdict=None,
                info=plain,
                done=False,
                reward=None,
                metadata={"info": plain},
            )
            return started

    def step(
        self, action: TaskgymAction, timeout_s: float | None = None, **kwargs: Any
    ) -> TaskgymObservation:
        """Play the reply ``action``: each action it asks for is one env step, in order;
        a call that cannot be read is answered with the reason and costs no step."""
        with self._lock:
            plays = self._plays(action)
            try:
                played = next(plays)
                while True:
                    played = plays.send(self._env.step(played))
            except StopIteration as stop:
                observation: TaskgymObservation = stop.value
                return observation

    # OpenEnv's server awaits these on its event loop when an env has them: the quick
    # calls of a step (a pure-Python task's, the built-in rewards) run there, and only
    # what may block (a sandbox, a grader) goes to the session's thread, as in the
    # episode pool: a thread hop costs more than a quick step.

    async def reset_async(self, **options: Any) -> TaskgymObservation:
        """:meth:`reset` (its options, checked there), on the event loop when the reset
        is quick, else in the session's thread."""
        call = functools.partial(self.reset, **options)
        quick = (
            self._task_env is not None
            and self._env_id == (options.get("env_id") or self._served.default)
            and self._task_env.quick_reset
        )
        if quick:
            return call()
        result: TaskgymObservation = await self._in_thread(call)
        return result

    async def step_async(
        self, action: TaskgymAction, timeout_s: float | None = None, **kwargs: Any
    ) -> TaskgymObservation:
        plays = self._plays(action)
        try:
            played = next(plays)
            while True:
                stages = self._live_task_env().step_stages(played)
                played = plays.send(await run_stages_async(stages, self._in_thread))
        except StopIteration as stop:
            observation: TaskgymObservation = stop.value
            return observation

    def _thread(self) -> ThreadPoolExecutor:
        """The session's thread for what may block (made at its first use)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taskgym-session")
        return self._executor

    async def _in_thread(self, call: Callable[[], Any]) -> Any:
        """``call()`` in the session's thread; the session is busy meanwhile."""
        self._activity(True)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread(), call)
        finally:
            self._activity(False)

    def bind_activity(self, mark: Callable[[bool], None]) -> None:
        """Have ``mark(True)`` called when the session starts work that may block, and
        ``mark(False)`` when it ends (the server's idle limit waits for it)."""
        self._activity = mark

    @property
    def state(self) -> TaskgymState:
        return TaskgymState(**vars(self._episode))

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name="taskgym",
            description=f"taskgym envs: {', '.join(self._served.envs)}",
        )

    def close(self) -> None:
        """Close the env and its sandbox; the session can play no more."""
        with self._lock:
            self._closed = True
            env, self._env, self._task_env = self._env, None, None
            executor, self._executor = self._executor, None
            self._episode.done = True
        if env is not None:
            env.close()
        if executor is not None:
            executor.shutdown(wait=False)
        self._served.open_sessions.discard(self)

    # -- the episode --------------------------------------------------------------------

    def _env_for(self, env_id: str | None) -> Any:
        """The session's env for ``env_id``: the one it has, or a new one (the old one,
        of another env id, is closed first)."""
        if self._closed:
            raise EpisodeStateError(
                "this session is closed (it sat idle past the server's limit, or the "
                "server is stopping): open a new connection"
            )
        chosen, kwargs = self._served.kwargs(env_id)
        if self._env is not None and chosen == self._env_id:
            return self._env
        if self._env is not None:
            self._env.close()
            self._env = self._task_env = None
        from taskgym.envs.env import make_task_env  # noqa: PLC0415 - gymnasium, when used

        self._env, self._task_env = make_task_env(chosen, **kwargs)
        self._env_id = chosen
        return self._env

    def _live_task_env(self) -> TaskEnv:
        if self._task_env is None:  # closed while the reply was being played
            raise EpisodeStateError("this session was closed: open a new connection")
        return self._task_env

    def _live_chat(self) -> Conversation:
        if self._closed:
            raise EpisodeStateError(
                "this session is closed (it sat idle past the server's limit, or the "
                "server is stopping): open a new connection"
            )
        if self._chat is None or self._episode.done:
            raise EpisodeStateError(
                "no episode is under way (none was started, or it has ended): send a reset"
            )
        return self._chat

    def _plays(self, action: TaskgymAction) -> Generator[str, StepResult, TaskgymObservation]:
        """The reply's actions, each yielded to be played (sent back its five values),
        then the observation of them all."""
        chat = self._live_chat()
        verbatim = action.verbatim
        if verbatim:
            if action.tool_calls:
                raise ConfigError("a verbatim action is text alone: send no tool_calls")
            planned = [PlannedAction(action.text)]
            before = len(chat.messages)
        else:
            before = len(chat.messages) + 1  # the reply joins the history first
            planned = chat.read({"content": action.text, "tool_calls": action.tool_calls})
        reward, text, info = 0.0, "", dict[str, Any]()
        terminated = truncated = False
        for index, planned_action in enumerate(planned):
            if terminated or truncated:
                chat.ended(planned[index:])
                break
            if planned_action.action is None:
                chat.refuse(planned_action)
                continue
            text, step_reward, terminated, truncated, info = yield planned_action.action
            reward += float(step_reward)
            if not verbatim:
                chat.observe(planned_action, text)
        done = terminated or truncated
        episode = self._episode
        episode.turn = int(info.get("turn", episode.turn)) if info else episode.turn
        episode.step_count += 1
        episode.done = done
        plain = dict(info)  # JSON, by TaskEnv's contract
        verdict = plain.get("verdict") if done else None
        metadata: dict[str, Any] = {"info": plain}
        if verdict is not None:
            metadata["verdict"] = verdict
        played: TaskgymObservation = TaskgymObservation.model_construct(
            text=text,
            messages=list(chat.messages[before:]) if not verbatim else [],
            tools=[],
            env_id=self._env_id,
            task_id=episode.task_id,
            turn=episode.turn,
            truncated=truncated,
            verdict=verdict,
            info=plain,
            done=done,
            reward=reward,
            metadata=metadata,
        )
        return played


def _no_activity(busy: bool) -> None:
    """What a session not made by a server reports its work to: nothing."""


@dataclass
class _Episode:
    """Where a session's episode is (what ``state`` reports)."""

    episode_id: str | None = None
    env_id: str = ""
    task_id: str = ""
    turn: int = 0
    step_count: int = 0
    done: bool = True
