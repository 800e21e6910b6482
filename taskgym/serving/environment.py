"""One OpenEnv session: a taskgym env (``gymnasium.make``) with its own sandbox, played
through OpenEnv's ``Environment`` interface.

OpenEnv's server makes one :class:`TaskgymEnvironment` a WebSocket session and closes it
when the session ends (the client closed or vanished, the session sat idle past the
limit, the server stops). The gymnasium env is made at the first reset, so a session
that only connects costs a few objects, not a sandbox; closing it closes the env and so
its sandbox. Sessions share nothing: each has its own env, sandbox and conversation.
"""

from __future__ import annotations

import json
import threading
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from taskgym.chat import Conversation, PlannedAction, tool_schemas
from taskgym.errors import ConfigError, EpisodeStateError
from taskgym.serving.models import TaskgymAction, TaskgymObservation, TaskgymState

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
        self._env_id = ""
        self._chat: Conversation | None = None
        self._state = TaskgymState()
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
            self._state = TaskgymState(
                episode_id=episode_id or str(uuid.uuid4()),
                env_id=self._env_id,
                task_id=str(info["task_id"]),
                done=False,
            )
            return TaskgymObservation(
                text=observation,
                messages=list(messages),
                tools=self._chat.native_tools,
                env_id=self._env_id,
                task_id=str(info["task_id"]),
                info=_json_safe(info),
                metadata={"info": _json_safe(info)},
            )

    def step(
        self, action: TaskgymAction, timeout_s: float | None = None, **kwargs: Any
    ) -> TaskgymObservation:
        """Play the reply ``action``: each action it asks for is one env step, in order;
        a call that cannot be read is answered with the reason and costs no step."""
        with self._lock:
            chat = self._live_chat()
            if action.verbatim:
                if action.tool_calls:
                    raise ConfigError("a verbatim action is text alone: send no tool_calls")
                planned = [PlannedAction(action.text)]
                before = len(chat.messages)
            else:
                before = len(chat.messages) + 1  # the reply joins the history first
                planned = chat.read({"content": action.text, "tool_calls": action.tool_calls})
            return self._play(chat, planned, before, verbatim=action.verbatim)

    @property
    def state(self) -> TaskgymState:
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name="taskgym",
            description=f"taskgym envs: {', '.join(self._served.envs)}",
        )

    def close(self) -> None:
        """Close the env and its sandbox; the session can play no more."""
        with self._lock:
            self._closed = True
            env, self._env = self._env, None
            self._state = self._state.model_copy(update={"done": True})
        if env is not None:
            env.close()
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
            self._env = None
        from taskgym.envs.env import make_task_env  # noqa: PLC0415 - gymnasium, when used

        self._env, _ = make_task_env(chosen, **kwargs)
        self._env_id = chosen
        return self._env

    def _live_chat(self) -> Conversation:
        if self._closed:
            raise EpisodeStateError(
                "this session is closed (it sat idle past the server's limit, or the "
                "server is stopping): open a new connection"
            )
        if self._chat is None or self._state.done:
            raise EpisodeStateError(
                "no episode is under way (none was started, or it has ended): send a reset"
            )
        return self._chat

    def _play(
        self, chat: Conversation, planned: list[PlannedAction], before: int, *, verbatim: bool
    ) -> TaskgymObservation:
        reward, text, info = 0.0, "", {}
        terminated = truncated = False
        for index, action in enumerate(planned):
            if terminated or truncated:
                chat.ended(planned[index:])
                break
            if action.action is None:
                chat.refuse(action)
                continue
            text, step_reward, terminated, truncated, info = self._env.step(action.action)
            reward += float(step_reward)
            if not verbatim:
                chat.observe(action, text)
        done = terminated or truncated
        turn = int(info.get("turn", self._state.turn)) if info else self._state.turn
        self._state = self._state.model_copy(
            update={"step_count": self._state.step_count + 1, "turn": turn, "done": done}
        )
        verdict = _json_safe(info["verdict"]) if done and "verdict" in info else None
        metadata: dict[str, Any] = {"info": _json_safe(info)}
        if verdict is not None:
            metadata["verdict"] = verdict
        return TaskgymObservation(
            text=text,
            messages=list(chat.messages[before:]) if not verbatim else [],
            env_id=self._env_id,
            task_id=self._state.task_id,
            turn=turn,
            truncated=truncated,
            verdict=verdict,
            info=_json_safe(info),
            done=done,
            reward=reward,
            metadata=metadata,
        )


def _json_safe(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as plain JSON (info holds JSON already; anything else becomes text)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return result
