"""Any taskgym env as a SkyRL-gym ``BaseTextEnv`` (``pip install 'taskgym[skyrl]'``).

SkyRL's generator makes one env a trajectory with ``skyrl_gym.make(name,
env_config=..., extras=row)``, calls ``init(prompt)`` with the row's chat prompt, then
``step(text)`` with each raw model output until ``done``. Here:

- :func:`register_skyrl_envs` puts taskgym envs in SkyRL-gym's registry under their own
  ids (``"taskgym/Shell-v0"``), so a SkyRL config names one as its ``env_class``.
- ``init`` starts an episode on the row's problem: ``extras["task_id"]``, else verl-style
  ``extras["reward_spec"]["ground_truth"]`` (what :func:`~taskgym.trainers.verl_rows`
  writes), else ``extras["seed"]``. The prompt is returned as given when it holds the
  problem, else the episode's own messages (:mod:`taskgym.chat`).
- ``step`` reads the model's text as :class:`taskgym.chat.Conversation` does: reasoning
  removed, tool calls written as ``<tool_call>`` blocks played in order (a bad one is
  answered with what was wrong), else the text is one action. Each observation comes
  back as a user message; the reward is what the env paid for the step, so a reward
  that shapes turns reaches SkyRL per turn, and their sum is the episode's reward.
- Env options come from ``env_config`` (a mapping: gymnasium.make's keyword arguments,
  as ``register_skyrl_envs`` or the SkyRL config give them).
"""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput
from skyrl_gym.envs.registration import register, registry

from taskgym.chat import Conversation, PlannedAction, prompt_holds
from taskgym.envs.env import TaskEnv, make_task_env
from taskgym.errors import ConfigError
from taskgym.registry import registered_ids
from taskgym.trainers.rewards import prompt_rows

__all__ = ["TaskgymSkyRLEnv", "register_skyrl_envs", "skyrl_env", "skyrl_rows"]

_ENTRY_POINT = "taskgym.trainers.skyrl_gym_env:TaskgymSkyRLEnv"

# SkyRL makes an env a trajectory and closes it at the end: the envs (and their warm
# sandboxes) wait here for the next trajectory of the same env and options instead.
_MAX_IDLE = 256
_IDLE: dict[str, list[tuple[gym.Env[str, str], TaskEnv]]] = {}
_IDLE_LOCK = threading.Lock()


def _take_env(env_id: str, options: dict[str, Any]) -> tuple[str, gym.Env[str, str], TaskEnv]:
    key = json.dumps([env_id, options], sort_keys=True, default=repr)
    with _IDLE_LOCK:
        idle = _IDLE.get(key)
        if idle:
            return (key, *idle.pop())
    return (key, *make_task_env(env_id, **options))


def _give_back(key: str, env: gym.Env[str, str], task_env: TaskEnv) -> None:
    with _IDLE_LOCK:
        idle = _IDLE.setdefault(key, [])
        if sum(map(len, _IDLE.values())) < _MAX_IDLE:
            idle.append((env, task_env))
            return
    env.close()


@atexit.register
def _close_idle() -> None:
    with _IDLE_LOCK:
        envs = [env for idle in _IDLE.values() for env, _ in idle]
        _IDLE.clear()
    for env in envs:
        env.close()


class TaskgymSkyRLEnv(BaseTextEnv):  # type: ignore[misc]  # skyrl-gym has no type hints
    """One trajectory of a taskgym env for SkyRL (see the module docstring).

    Args:
        env_config: gymnasium.make's keyword arguments for the env (a mapping, or
            SkyRL's config object), with ``env_id`` when the registration does not
            give it.
        extras: the dataset row's extra fields (which problem to play).
        env_id: the taskgym env id (given by :func:`register_skyrl_envs`).
    """

    def __init__(
        self,
        env_config: Any = None,
        extras: Mapping[str, Any] | None = None,
        env_id: str | None = None,
    ) -> None:
        super().__init__()
        options = {str(k): v for k, v in dict(env_config or {}).items()}
        self.env_id = str(env_id or options.pop("env_id", "") or (extras or {}).get("env_id", ""))
        options.pop("env_id", None)
        if not self.env_id:
            raise ConfigError("a taskgym SkyRL env needs env_id (register_skyrl_envs gives it)")
        self.extras = dict(extras or {})
        self._key, self._env, self._task_env = _take_env(self.env_id, options)
        self._closed = False
        self.max_turns = self._task_env.max_turns
        self.chat = Conversation(self._task_env.task, tools="text")
        self._reward = 0.0
        self._done = False

    def init(self, prompt: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        observation, info = self._reset()
        messages = self.chat.start(observation)
        self.turns, self._reward, self._done = 0, 0.0, False
        if prompt_holds(prompt, observation):
            self.chat.messages = list(prompt)
            return prompt, {"task_id": info.get("task_id")}
        return list(messages), {"task_id": info.get("task_id")}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        if self._done:
            raise ConfigError("step() after the episode ended: call init() first")
        self.turns += 1
        self.chat.messages.append({"role": "assistant", "content": action})
        observations: list[dict[str, Any]] = []
        reward = 0.0
        info: dict[str, Any] = {}
        for planned in self.chat.plan(action):
            text, step_reward, info, ended = self._play(planned)
            reward += step_reward
            observations.append({"role": "user", "content": text})
            if ended:  # the calls after the last are not played
                break
        self._reward += reward
        self.chat.messages.extend(observations)
        metadata: dict[str, Any] = {"verdict": info.get("verdict")} if self._done else {}
        return BaseTextEnvStepOutput(
            observations=[] if self._done else observations,
            reward=reward,
            done=self._done,
            metadata=metadata,
            postprocessed_action=None,
        )

    def get_metrics(self) -> dict[str, Any]:
        return {"turns": self.turns, "reward": self._reward}

    def close(self) -> None:
        """The trajectory is over: its env waits, warm, for the next one."""
        if not self._closed:
            self._closed = True
            _give_back(self._key, self._env, self._task_env)

    def _reset(self) -> tuple[str, dict[str, Any]]:
        task_id = _task_id(self.extras)
        if task_id is not None:
            observation, info = self._env.reset(options={"task_id": task_id})
        elif self.extras.get("seed") is not None:
            observation, info = self._env.reset(seed=int(self.extras["seed"]))
        else:
            raise ConfigError(
                f"the SkyRL env of {self.env_id} needs the row's task_id (extras['task_id'] "
                "or reward_spec.ground_truth, as taskgym.trainers.verl_rows writes) or seed"
            )
        return str(observation), dict(info)

    def _play(self, planned: PlannedAction) -> tuple[str, float, dict[str, Any], bool]:
        """One planned action: what the model is shown, the reward, info, and whether
        the episode ended."""
        if planned.action is None:
            return f"error: {planned.error}", 0.0, {}, False
        observation, reward, terminated, truncated, info = self._env.step(planned.action)
        self._done = bool(terminated or truncated)
        return str(observation), float(reward), dict(info), self._done


def skyrl_env(env_id: str, *, extras: Mapping[str, Any] | None = None, **options: Any) -> Any:
    """A :class:`TaskgymSkyRLEnv` of ``env_id`` for the row ``extras``, made through
    SkyRL-gym's own ``make`` (the env is registered first when it is not yet)."""
    import skyrl_gym  # noqa: PLC0415 - the registry's make, as SkyRL's generator calls it

    register_skyrl_envs([env_id])
    return skyrl_gym.make(env_id, env_config=options, extras=dict(extras or {}))


def register_skyrl_envs(env_ids: Iterable[str] | None = None) -> list[str]:
    """Register ``env_ids`` (default: every taskgym env) in SkyRL-gym's registry under
    their own ids; ids already there are left alone. Returns the ids registered now."""
    ids = list(env_ids) if env_ids is not None else registered_ids()
    added = []
    for env_id in ids:
        if env_id in registry:
            continue
        register(id=env_id, entry_point=_ENTRY_POINT, kwargs={"env_id": env_id})
        added.append(env_id)
    return added


def skyrl_rows(env_id: str, **options: Any) -> list[dict[str, Any]]:
    """:func:`~taskgym.trainers.prompt_rows` in SkyRL's dataset schema: the chat
    ``prompt``, ``env_class`` (the env id, registered by :func:`register_skyrl_envs`),
    ``reward_spec.ground_truth`` (the task id the env plays), ``data_source`` and
    ``extra_info``; ``options`` as ``prompt_rows`` takes them."""
    return [
        {
            "data_source": env_id,
            "prompt": row["prompt"],
            "env_class": env_id,
            "reward_spec": {"method": "rule", "ground_truth": row["task_id"]},
            "extra_info": {"task_id": row["task_id"], "index": i},
        }
        for i, row in enumerate(prompt_rows(env_id, chat=True, **options))
    ]


def _task_id(extras: Mapping[str, Any]) -> str | None:
    if extras.get("task_id") is not None:
        return str(extras["task_id"])
    spec = extras.get("reward_spec")
    if isinstance(spec, Mapping) and spec.get("ground_truth") is not None:
        return str(spec["ground_truth"])
    info = extras.get("extra_info")
    if isinstance(info, Mapping) and info.get("task_id") is not None:
        return str(info["task_id"])
    return None
