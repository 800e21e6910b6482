"""Remote envs as gymnasium envs, and episodes spread over servers.

``gymnasium.make("taskgym/Remote-v0", url=..., env_id=...)`` is a gymnasium env whose
episodes run on a ``taskgym serve`` (or any server of taskgym's envs over OpenEnv's
protocol), through OpenEnv's own client (``GenericEnvClient``, one WebSocket session a
remote env). Its ``reset``, ``step`` and ``close`` behave as the served env's do: the
same observations, rewards, ``terminated``/``truncated`` and info (the verdict at the
end), since each action is played verbatim as one ``env.step`` on the server. The
server keeps the problem and its solution: a remote env has no ``problem``, so the
oracle agent cannot play one; agents that read observations (and, for the OpenAI agent,
the task's prompt and tools, which :attr:`RemoteEnv.task` builds from this machine's
registration) play it unchanged.

The ``remote`` executor (``make_executor("remote", urls=[...])``) plays
:class:`~taskgym.parallel.spec.EpisodeSpec` values on those servers, episodes spread
round-robin, ``concurrency`` at once; each thread keeps one session a server and env id
open between episodes. The servers decide the envs' options (``taskgym serve --set``),
so a spec's ``kwargs`` are refused.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, SupportsFloat

import gymnasium as gym

from taskgym.core import Task
from taskgym.errors import ActionTypeError, ConfigError, DependencyNotInstalledError
from taskgym.parallel.base import Executor
from taskgym.parallel.spec import EpisodeResult, EpisodeSpec
from taskgym.spaces import UnicodeText

try:
    from openenv import GenericEnvClient
except ImportError as e:
    raise DependencyNotInstalledError("openenv-core", "openenv") from e

__all__ = ["RemoteEnv", "RemoteError", "RemoteExecutor"]

_MAX_CHARS = 8 * 1024 * 1024  # the space's bound; the server's env applies its own limits


class RemoteError(RuntimeError):
    """The server refused or failed a request; the message is its answer (which says
    what to do), or why it could not be reached."""


class RemoteEnv(gym.Env[str, str]):
    """An env played on a server of taskgym's envs.

    Args:
        url: the server (``http://host:port`` or ``ws://host:port``).
        env_id: the served env to play (default: the server's first).
        timeout: seconds to wait for one answer (a step that runs tests may be long).

    Examples:
        >>> import gymnasium, taskgym
        >>> env = gymnasium.make("taskgym/Remote-v0", url="http://127.0.0.1:8000",
        ...                      env_id="taskgym/Arithmetic-v0")  # doctest: +SKIP
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's API

    def __init__(self, url: str, env_id: str | None = None, *, timeout: float = 600.0) -> None:
        if not isinstance(url, str) or "://" not in url:
            raise ConfigError(f"url is a server's address such as http://host:8000, got {url!r}")
        self.url = url.rstrip("/")
        self.env_id = env_id
        self.timeout = timeout
        self.action_space = UnicodeText(max_length=_MAX_CHARS)
        self.observation_space = UnicodeText(max_length=_MAX_CHARS)
        self._client: Any = None
        self._task: Task | None = None

    @property
    def task(self) -> Task:
        """The served env's task as this machine's registration builds it (its family's
        prompt and its tools, for chat agents); the server's own options may differ."""
        if self._task is None:
            if self.env_id is None:
                raise ConfigError("name the env_id of a remote env to build its task here")
            from taskgym.envs.env import make_task_env  # noqa: PLC0415

            env, task_env = make_task_env(self.env_id)
            self._task = task_env.task
            env.close()
        return self._task

    @property
    def sandbox(self) -> None:
        """None: the sandbox is the server's."""
        return None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        data: dict[str, Any] = {}
        if seed is not None:
            data["seed"] = seed
        if options and options.get("task_id") is not None:
            data["task_id"] = options["task_id"]
        if self.env_id is not None:
            data["env_id"] = self.env_id
        observation = self._call("reset", **data).observation
        return str(observation["text"]), dict(observation["info"])

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise ActionTypeError(
                f"taskgym actions are str, got {type(action).__name__}; "
                "decode the model's output to text before step()"
            )
        result = self._call("step", {"text": action, "verbatim": True})
        observation = result.observation
        truncated = bool(observation["truncated"])
        terminated = bool(result.done) and not truncated
        reward = float(result.reward or 0.0)
        return str(observation["text"]), reward, terminated, truncated, dict(observation["info"])

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._client is None:
            self._client = GenericEnvClient(
                base_url=self.url, message_timeout_s=self.timeout
            ).sync()
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except (RuntimeError, ConnectionError, OSError, TimeoutError) as e:
            # The session may be gone (closed idle, server restarted): the next call
            # opens a new one.
            self.close()
            raise RemoteError(f"{self.url}: {e}") from e


class RemoteExecutor(Executor):
    """Episodes on servers of taskgym's envs, round-robin, ``concurrency`` at once."""

    name = "remote"

    def __init__(
        self,
        concurrency: int | None = 1,
        timeout: float | None = None,
        *,
        workers: int | None = None,
        urls: Sequence[str] = (),
    ) -> None:
        if workers is not None:
            raise ConfigError("the remote executor's workers are its servers: pass urls=[...]")
        if isinstance(urls, str) or not urls:
            raise ConfigError("the remote executor needs urls=[...]: the servers to play on")
        super().__init__(1 if concurrency is None else concurrency)
        self.urls = list(urls)
        self.timeout = timeout
        self._next = itertools.cycle(self.urls)
        self._next_lock = threading.Lock()
        self._local = threading.local()
        self._opened: list[RemoteEnv] = []
        self._opened_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="taskgym-remote"
        )

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        if spec.kwargs:
            raise ConfigError(
                "a remote episode's env options are the server's (taskgym serve --set): "
                f"send specs without kwargs, got {dict(spec.kwargs)}"
            )
        with self._next_lock:
            url = next(self._next)
        return self._pool.submit(self._play, spec, url)

    def _play(self, spec: EpisodeSpec, url: str) -> EpisodeResult:
        from taskgym.agents import ScriptedAgent, make_agent  # noqa: PLC0415
        from taskgym.runner import play_episode  # noqa: PLC0415

        env = self._env(url, spec.env_id)
        try:
            agent = (
                make_agent(spec.agent, **dict(spec.agent_options))
                if spec.actions is None
                else ScriptedAgent(spec.actions)
            )
            record = play_episode(
                env,  # type: ignore[arg-type]  # it plays any env with reset and step
                agent,
                env_id=spec.env_id,
                episode=spec.episode,
                seed=spec.seed,
                task_id=spec.task_id,
            )
        except Exception as e:  # the boundary: a failed episode is a result, not a crash
            env.close()
            trace = "".join(traceback.format_exception_only(type(e), e)).strip()
            return EpisodeResult(spec, None, error=trace[-2000:], error_type=type(e).__name__)
        return EpisodeResult(spec, record)

    def _env(self, url: str, env_id: str) -> RemoteEnv:
        """This thread's env for ``url`` and ``env_id`` (one session, kept open)."""
        envs: dict[tuple[str, str], RemoteEnv] = getattr(self._local, "envs", None) or {}
        self._local.envs = envs
        env = envs.get((url, env_id))
        if env is None:
            env = RemoteEnv(url, env_id, timeout=self.timeout or 600.0)
            envs[(url, env_id)] = env
            with self._opened_lock:
                self._opened.append(env)
        return env

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for env in opened:
            env.close()
