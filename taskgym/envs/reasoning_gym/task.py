"""ReasoningGym-v0: the datasets of reasoning-gym as one task.

``dataset=`` names any dataset the installed reasoning-gym registers
(:func:`~taskgym.envs.reasoning_gym.datasets.dataset_names`); ``config=`` its config's
fields; ``level=`` a level of its curriculum (every attribute at that level), under
``config``. The problem of seed ``s`` is the dataset's item made from ``Random(s)``
(reasoning-gym's item 0 with seed ``s``), a pure function of the four; its id
``rg/<dataset>/<seed>[/L<level>][/<config JSON>]`` says all four, so ``get`` makes it
again from the id alone.

An answer is graded twice, and must pass both: taskgym's checks of its form
(:mod:`~taskgym.envs.reasoning_gym.answers`: one ``<answer>`` block, bare as the
reference), then reasoning-gym's ``score_answer`` in a confined worker
(:mod:`~taskgym.envs.reasoning_gym.scoring`), which must give 1.0 (partial credit is
in the verdict's details, ``score``, for rewards that want it; it solves nothing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from taskgym.core import Execution, Problem, Task, Turn, Verdict
from taskgym.envs.reasoning_gym import datasets
from taskgym.envs.reasoning_gym.answers import extract_answer, form_problem, is_integer
from taskgym.errors import ConfigError, UnknownTaskIdError

if TYPE_CHECKING:
    from taskgym.sandboxes.base import Sandbox

__all__ = ["ReasoningGymTask"]

_INSTRUCTION = "\n\nGive your final answer, and nothing else, between <answer> and </answer> tags."
_PREFIX = "rg"


@dataclass(frozen=True)
class ReasoningGymTask(Task):
    """One reasoning-gym dataset. Options:

    - ``dataset``: its name (``taskgym.envs.reasoning_gym.dataset_names()``).
    - ``config``: fields of its config dataclass (JSON values), over the level's.
    - ``level``: a level of its curriculum, 0 up to its highest; None for the config's
      defaults.
    - ``score_seconds``: the time ``score_answer`` may take on one answer; longer scores
      nothing.
    """

    family: ClassVar[str] = "reasoning_gym"
    execution: ClassVar[Execution] = Execution()

    dataset: str = "basic_arithmetic"
    config: Mapping[str, Any] = field(default_factory=dict)
    level: int | None = None
    score_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset must be a reasoning-gym dataset name, got {self.dataset!r}")
        if not isinstance(self.config, Mapping):
            raise ConfigError(f"config must be a mapping of config fields, got {self.config!r}")
        try:
            json.dumps(dict(self.config), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"config must hold JSON values: {e}") from e
        if not (isinstance(self.score_seconds, (int, float)) and self.score_seconds > 0):
            raise ConfigError(f"score_seconds must be > 0, got {self.score_seconds!r}")
        datasets.check_config(self.dataset, self.level, self.config)
        object.__setattr__(self, "config", dict(self.config))

    def problem(self, seed: int) -> Problem:
        return self._problem(self.dataset, self.level, self.config, seed)

    def get(self, task_id: str) -> Problem:
        dataset, level, config, seed = _parse_id(task_id)
        if dataset not in datasets.dataset_names():
            raise UnknownTaskIdError(f"{task_id!r} names no dataset of reasoning-gym")
        try:
            datasets.check_config(dataset, level, config)
        except ConfigError as e:
            raise UnknownTaskIdError(f"{task_id!r}: {e}") from e
        return self._problem(dataset, level, config, seed)

    def _problem(
        self, dataset: str, level: int | None, config: Mapping[str, Any], seed: int
    ) -> Problem:
        item = datasets.make_item(dataset, level, config, seed)
        right = item.answer if item.answer is not None else item.example
        solution = () if right is None else (f"<answer>{right}</answer>",)
        return Problem(
            id=_task_id(dataset, level, config, seed),
            prompt=item.question + _INSTRUCTION,
            solution=solution,
            data={
                "dataset": dataset,
                "level": level,
                "config": dict(config),
                "seed": seed,
                "answer": item.answer,
            },
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        reply = transcript[-1].action if transcript else ""
        answer, why = extract_answer(reply)
        if answer is None:
            return Verdict.unparsed(why)
        data = problem.data
        reference = data["answer"]
        wrong_form = form_problem(answer, reference)
        if wrong_form:
            return Verdict(True, 0, 1, {"reason": wrong_form, "score": None})
        score = datasets.score_answer(
            data["dataset"],
            data["level"],
            data["config"],
            data["seed"],
            answer,
            seconds=float(self.score_seconds),
        )
        details: dict[str, Any] = {"score": score.value}
        if score.refused:
            details["reason"] = score.refused
        return Verdict(True, int(score.value >= 1.0), 1, details)

    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        """Small datasets repeat answers (yes/no, a count): another item's reference may
        rightly be this one's answer; where the references are equal as text it is."""
        a, b = problem.data.get("answer"), other.data.get("answer")
        return a is not None and b is not None and a.strip() == b.strip()

    def near_misses(self, problem: Problem) -> Mapping[str, tuple[str, ...]]:
        """The default near misses (the final number off by one, negated) where the
        reference is an integer, which no other answer equals; none elsewhere: decimals
        are compared with a tolerance, and grids, plans and expressions may have other
        right answers close to the reference."""
        reference = problem.data.get("answer")
        if reference is None or not is_integer(reference):
            return {}
        return super().near_misses(problem)


def _task_id(dataset: str, level: int | None, config: Mapping[str, Any], seed: int) -> str:
    parts = [_PREFIX, dataset, str(seed)]
    if level is not None:
        parts.append(f"L{level}")
    if config:
        parts.append(json.dumps(dict(config), sort_keys=True, separators=(",", ":")))
    return "/".join(parts)


def _parse_id(task_id: str) -> tuple[str, int | None, dict[str, Any], int]:
    """The dataset, level, config and seed a task id says; UnknownTaskIdError if it is not
    one of this task's ids."""
    head, _, config_text = task_id.partition("/{")
    parts = head.split("/")
    bad = UnknownTaskIdError(
        f"{task_id!r} is not a reasoning-gym task id (rg/<dataset>/<seed>[/L<level>][/<config>])"
    )
    if len(parts) not in (3, 4) or parts[0] != _PREFIX or not parts[2].isdigit():
        raise bad
    level = None
    if len(parts) == 4:
        if not (parts[3].startswith("L") and parts[3][1:].isdigit()):
            raise bad
        level = int(parts[3][1:])
    config: dict[str, Any] = {}
    if config_text:
        try:
            config = json.loads("{" + config_text)
        except ValueError as e:
            raise bad from e
        if not isinstance(config, dict):
            raise bad
    return parts[1], level, config, int(parts[2])
