"""An env's prompts as dataset rows, and its grading as the reward functions TRL and
verl call for single-turn envs.

- :func:`prompt_rows` (and :func:`to_dataset`, the ``datasets`` extra) give one row a
  problem: the prompt (plain, or as chat messages), the ``task_id`` the grader needs,
  and the ``env_id``. Extra columns ride along to the reward function, as TRL does.
- :func:`trl_reward` is a ``GRPOTrainer`` reward function: TRL calls it as
  ``reward(prompts=[...], completions=[...], task_id=[...], <other columns>...,
  completion_ids=..., trainer_state=...)`` and takes one float a completion (None where
  grading itself failed, which TRL turns into NaN and leaves out).
- :func:`verl_compute_score` is a verl ``custom_reward_function``: verl calls
  ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``
  once a response, with the row's ``data_source`` (the env id) and
  ``reward_model.ground_truth`` (the task id); :func:`verl_rows` writes rows so.

Every score is exactly the reward an episode would pay (the graders of ``grade_many``:
the same reward spec, limits and hardened checks), from graders kept warm between calls.
A completion's reasoning (``<think>...</think>``) is removed before it is graded
(:func:`taskgym.chat.strip_reasoning`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from taskgym.batch import Grader
from taskgym.chat import strip_reasoning, system_prompt
from taskgym.closing import Closing
from taskgym.envs.env import make_task_env
from taskgym.errors import ConfigError, DependencyNotInstalledError

__all__ = [
    "TaskgymReward",
    "prompt_rows",
    "to_dataset",
    "trl_reward",
    "verl_compute_score",
    "verl_rows",
]

Completion = str | Sequence[Mapping[str, Any]]
"""A completion as TRL passes it: text, or chat messages (the last one's content)."""


def prompt_rows(
    env_id: str,
    *,
    count: int | None = None,
    seed: int = 0,
    chat: bool = False,
    **make_kwargs: Any,
) -> list[dict[str, Any]]:
    """One row a problem of ``env_id``: every problem of an env with a fixed set of them
    (the first ``count`` when given), else ``count`` problems drawn from seeds ``seed,
    seed+1, ...``. ``chat`` gives the prompt as system and user messages (TRL's
    conversational format; the system prompt is :func:`taskgym.chat.system_prompt`'s)
    instead of text. A multi-turn env's row is its first observation; the reward
    functions below grade single-turn envs only (multi-turn episodes are trained through
    :func:`~taskgym.trainers.trl_environment` or played with the episode pool of
    :mod:`taskgym.parallel`)."""
    env, task_env = make_task_env(env_id, **make_kwargs)
    try:
        ids = task_env.task.task_ids()
        rows = []
        if ids is not None:
            chosen = list(ids)[:count] if count is not None else list(ids)
            problems = [task_env.task.get(task_id) for task_id in chosen]
        else:
            if count is None:
                raise ConfigError(f"{env_id} makes problems from seeds: give count=")
            problems = []
            for i in range(count):
                env.reset(seed=seed + i)
                problems.append(task_env.problem)
        system = system_prompt(task_env.task)
        for problem in problems:
            prompt: Any = problem.prompt
            if chat:
                prompt = [
                    {"role": "system", "content": system},
                    {"role": "user", "content": problem.prompt},
                ]
            rows.append({"prompt": prompt, "task_id": problem.id, "env_id": env_id})
        return rows
    finally:
        env.close()


def to_dataset(env_id: str, **options: Any) -> Any:
    """:func:`prompt_rows` as a ``datasets.Dataset`` (``pip install 'taskgym[datasets]'``)."""
    try:
        import datasets  # noqa: PLC0415 - the datasets extra, only when asked
    except ImportError as e:
        raise DependencyNotInstalledError("datasets", "datasets") from e
    return datasets.Dataset.from_list(prompt_rows(env_id, **options))


class TaskgymReward(Closing):
    """A TRL ``GRPOTrainer`` reward function grading completions on one env, its
    graders kept warm between calls (:class:`~taskgym.batch.Grader`, made on the first
    call). Its dataset has a ``task_id`` column, as :func:`prompt_rows` writes."""

    def __init__(self, env_id: str, *, workers: int | None = None, **make_kwargs: Any) -> None:
        self.env_id = env_id
        # TRL logs each reward under its function's __name__.
        self.__name__ = "taskgym_" + env_id.rpartition("/")[2].replace("-", "_")
        self._workers = workers
        self._make_kwargs = make_kwargs
        self._grader: Grader | None = None
        self._lock = threading.Lock()

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Completion] = (),
        task_id: Sequence[str] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        if task_id is None:
            raise ConfigError(
                "the taskgym reward needs the dataset's task_id column (taskgym.trainers."
                "prompt_rows writes it); TRL passes every column but the prompt to rewards"
            )
        if len(task_id) != len(completions):
            raise ConfigError(f"{len(completions)} completions but {len(task_id)} task ids")
        with self._lock:
            if self._grader is None:
                self._grader = Grader(self.env_id, workers=self._workers, **self._make_kwargs)
            grader = self._grader
        graded = grader.grade(
            [(str(t), _text(c)) for t, c in zip(task_id, completions, strict=True)]
        )
        return [None if g.error is not None else g.reward for g in graded]

    def close(self) -> None:
        with self._lock:
            grader, self._grader = self._grader, None
        if grader is not None:
            grader.close()


def trl_reward(env_id: str, *, workers: int | None = None, **make_kwargs: Any) -> TaskgymReward:
    """A TRL ``GRPOTrainer`` reward function for ``env_id`` (see :class:`TaskgymReward`)."""
    return TaskgymReward(env_id, workers=workers, **make_kwargs)


def verl_rows(env_id: str, **options: Any) -> list[dict[str, Any]]:
    """:func:`prompt_rows` in verl's dataset schema (``data_source``, chat ``prompt``,
    ``ability``, ``reward_model.ground_truth``, ``extra_info``), ready for parquet."""
    rows = prompt_rows(env_id, chat=True, **options)
    env_name = env_id.rsplit("/", maxsplit=1)[-1]
    return [
        {
            "data_source": row["env_id"],
            "prompt": row["prompt"],
            "ability": env_name,
            "reward_model": {"style": "rule", "ground_truth": row["task_id"]},
            "extra_info": {"task_id": row["task_id"], "index": i},
        }
        for i, row in enumerate(rows)
    ]


_SCORERS: dict[str, TaskgymReward] = {}
_SCORERS_LOCK = threading.Lock()


def verl_compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> float:
    """verl's ``compute_score``: the reward of ``solution_str`` on problem
    ``ground_truth`` (a task id) of env ``data_source``. A failed grading scores 0.0
    (verl needs a number); it is never a pass."""
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(data_source)
        if scorer is None:
            scorer = _SCORERS[data_source] = trl_reward(data_source, workers=1)
    (score,) = scorer(completions=[solution_str], task_id=[str(ground_truth)])
    return 0.0 if score is None else float(score)


def _text(completion: Completion) -> str:
    """The answer in a completion: its text, or its last message's, without reasoning."""
    if isinstance(completion, str):
        return strip_reasoning(completion)
    if not completion:
        return ""
    content = completion[-1].get("content")
    return strip_reasoning(content) if isinstance(content, str) else ""
