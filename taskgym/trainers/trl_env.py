"""Any taskgym env as a TRL ``environment_factory``: multi-turn episodes trained by
TRL's own ``GRPOTrainer`` tool loop.

TRL (>= 1.0) builds one environment a rollout from a factory, calls ``reset(**row)`` with
the dataset row, offers the environment's public methods to the model as tools (their
JSON schemas come from each method's signature and docstring), runs the calls the model
makes, and takes the rollout's reward from ``get_reward()``. Here:

- ``reset`` starts an episode on the row's problem: its ``task_id`` column (as
  :func:`~taskgym.trainers.prompt_rows` writes), else its ``seed``. It returns the first
  observation only when the row's prompt does not already hold it (a dataset with just
  an ``env_id``, say), since TRL appends what ``reset`` returns to the prompt.
- The tools are the task's own actions (:meth:`~taskgym.core.Task.tools`: a shell's
  ``run_command`` and ``submit``, code's ``run_code`` and ``submit``, a project's file
  and run tools, Coq's ``tactic``), each a method with real parameters and a docstring.
  A task whose action is plain text (an answer, a program, a retry) gets one tool,
  ``answer``. Each call is one ``env.step``; its observation is the tool's result.
- ``get_reward`` is exactly the episode's taskgym reward: the sum of what its steps paid
  (0.0 when the model never acted, or stopped before the task graded it).

Every instance holds its own env (and so its own sandbox, kept warm across resets), made
on its first ``reset`` and closed when the instance is collected or the process ends.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from taskgym.chat import prompt_holds
from taskgym.core import Tool
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.errors import ConfigError

__all__ = ["TRLEnvironment", "trl_environment"]

_ANSWER = Tool(
    "answer",
    "Send your answer, written exactly as the task asks; the reply is the task's response.",
    {"text": "the answer (or program) in the task's format"},
    lambda args: args["text"],
)
_OVER = "The episode is over: no more actions are taken."
_RESERVED = frozenset({"reset", "get_reward"})


class TRLEnvironment:
    """One rollout's episode of a taskgym env, as TRL's ``environment_factory`` makes
    them (see the module docstring). Tool methods are added per env by
    :func:`trl_environment`; only ``reset`` and ``get_reward`` are TRL's own names."""

    env_id: str = ""
    make_kwargs: Mapping[str, Any] = {}

    def __init__(self) -> None:
        self._env: Any = None
        self._task_env: TaskEnv | None = None
        self._reward = 0.0
        self._done = True

    def reset(self, **row: Any) -> str | None:
        """Start an episode on the row's problem (``task_id``, else ``seed``)."""
        self._live()
        if row.get("task_id") is not None:
            observation, _ = self._env.reset(options={"task_id": str(row["task_id"])})
        elif row.get("seed") is not None:
            observation, _ = self._env.reset(seed=int(row["seed"]))
        else:
            raise ConfigError(
                f"the TRL environment of {self.env_id} needs a task_id (or seed) column in "
                "each row; taskgym.trainers.prompt_rows writes one"
            )
        self._reward, self._done = 0.0, False
        return None if prompt_holds(row.get("prompt"), observation) else str(observation)

    def get_reward(self) -> float:
        """The episode's taskgym reward: what its steps paid."""
        return self._reward

    def _step(self, tool: Tool, arguments: Mapping[str, Any]) -> str:
        unexpected = sorted(set(arguments) - set(tool.parameters))
        if unexpected:  # TRL tells the model the error's words
            raise TypeError(f"{tool.name}() takes {list(tool.parameters)}, not {unexpected}")
        if self._done:
            return _OVER
        observation, reward, terminated, truncated, _ = self._env.step(tool.action(arguments))
        self._reward += float(reward)
        self._done = bool(terminated or truncated)
        return str(observation)

    def _live(self) -> TaskEnv:
        if self._task_env is None:
            self._env, self._task_env = make_task_env(self.env_id, **dict(self.make_kwargs))
            weakref.finalize(self, self._env.close)
        return self._task_env


def trl_environment(env_id: str, **make_kwargs: Any) -> Callable[[], TRLEnvironment]:
    """A TRL ``environment_factory`` for ``env_id`` (options as ``gymnasium.make``
    takes them): ``GRPOTrainer(..., environment_factory=trl_environment(env_id))``.

    The env is made once here to check the id and options and to read its tools."""
    env, task_env = make_task_env(env_id, **make_kwargs)
    try:
        task = task_env.task
        tools = tuple(task.tools()) if task.multi_turn else ()
    finally:
        env.close()
    tools = tools or (_ANSWER,)
    clash = sorted(t.name for t in tools if t.name in _RESERVED or not t.name.isidentifier())
    if clash:
        raise ConfigError(f"{env_id}'s tools {clash} cannot be TRL tool methods")
    name = "TRL_" + env_id.rpartition("/")[2].replace("-", "_")
    namespace: dict[str, Any] = {"env_id": env_id, "make_kwargs": dict(make_kwargs)}
    namespace.update({tool.name: _tool_method(tool) for tool in tools})
    namespace["__doc__"] = f"An episode of {env_id} for TRL's GRPOTrainer (taskgym)."
    return type(name, (TRLEnvironment,), namespace)


def _tool_method(tool: Tool) -> Callable[..., str]:
    """A method for ``tool`` whose signature and docstring TRL turns into its schema."""

    def method(self: TRLEnvironment, **arguments: str) -> str:
        return self._step(tool, arguments)

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = [
        inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=str)
        for p in tool.parameters
    ]
    method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_parameter, *parameters], return_annotation=str
    )
    method.__annotations__ = {**dict.fromkeys(tool.parameters, str), "return": str}
    method.__name__ = method.__qualname__ = tool.name
    arguments = "".join(
        f"\n    {p}: {' '.join(text.split())}" for p, text in tool.parameters.items()
    )
    method.__doc__ = tool.description + (f"\n\nArgs:{arguments}" if arguments else "")
    return method
