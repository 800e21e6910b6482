"""reasoning-gym's datasets, reached through one confined worker process
(:mod:`~taskgym.envs.reasoning_gym.score_worker`, started on first use, stopped at
exit): the names the installed version registers, checks of a config, items made from
seeds, and ``score_answer`` on agent text with a time limit.

The host never imports reasoning-gym (the ``reasoning-gym`` extra): its scoring
functions evaluate agent text, and its items are pure functions of their seed only
under a fixed hash seed, which the worker has.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taskgym.envs.common.confined import ConfinedWorker, WorkerFailed, WorkerTimeout
from taskgym.errors import CheckerError, ConfigError, DependencyNotInstalledError

__all__ = [
    "DatasetItem",
    "Score",
    "check_config",
    "dataset_names",
    "make_item",
    "max_level",
    "reasoning_gym_missing",
    "score_answer",
]

_INSTALL = "reasoning-gym is not installed: pip install 'taskgym[reasoning-gym]'"
_WORKER = os.path.join(os.path.dirname(__file__), "score_worker.py")
# A fixed hash seed (items depend on set order), one thread for the numeric libraries,
# and a cache directory matplotlib may write.
_ENV = {
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MPLCONFIGDIR": "/tmp",
}
_ITEM_SECONDS = 120.0
_SHARED: ConfinedWorker | None = None
_LOCK = threading.Lock()


@dataclass(frozen=True)
class DatasetItem:
    """One item of a dataset: its question and reference answer (None where the dataset
    has no single answer and only its ``score_answer`` can tell a right one; ``example``
    is then one right answer, where the item's metadata holds one)."""

    question: str
    answer: str | None
    example: str | None = None


@dataclass(frozen=True)
class Score:
    """What scoring an answer gave: a score, or why it scores nothing (the scoring
    function raised, was refused something, or took too long)."""

    value: float
    refused: str = ""


@functools.cache
def reasoning_gym_missing() -> str | None:
    """Why reasoning-gym cannot be used here, or None."""
    return None if importlib.util.find_spec("reasoning_gym") is not None else _INSTALL


def _worker() -> ConfinedWorker:
    global _SHARED  # noqa: PLW0603 - one worker for every env of the process
    if reasoning_gym_missing() is not None:
        raise DependencyNotInstalledError("reasoning-gym", "reasoning-gym")
    with _LOCK:
        if _SHARED is None:
            spec = importlib.util.find_spec("reasoning_gym")
            if spec is None or spec.origin is None:  # gone since the check above
                raise DependencyNotInstalledError("reasoning-gym", "reasoning-gym")
            site = os.path.dirname(os.path.dirname(spec.origin))
            _SHARED = ConfinedWorker(
                _WORKER, args=(site,), binds=(site,), env=_ENV, python_args=("-s",)
            )
            atexit.register(_SHARED.close)
        return _SHARED


def _ask(request: Mapping[str, Any], seconds: float = _ITEM_SECONDS) -> dict[str, Any]:
    """The worker's reply; a CheckerError where reasoning-gym itself failed."""
    try:
        reply = _worker().ask(request, seconds)
    except WorkerFailed as e:  # no agent text in these requests: the framework's failure
        raise CheckerError(f"reasoning-gym failed on {dict(request)}: {e}") from e
    if "error" in reply:
        raise CheckerError(f"reasoning-gym failed on {dict(request)}: {reply['error']}")
    return reply


@functools.cache
def _levels() -> dict[str, int | None]:
    datasets = _ask({"op": "describe"})["datasets"]
    return {str(name): level for name, level in datasets.items()}


def dataset_names() -> list[str]:
    """Every dataset the installed reasoning-gym registers, sorted."""
    return sorted(_levels())


def max_level(name: str) -> int | None:
    """The highest level of the curriculum of dataset ``name``; None if it has none."""
    _known(name)
    return _levels()[name]


def _known(name: str) -> None:
    names = _levels()
    if name not in names:
        raise ConfigError(
            f"reasoning-gym has no dataset {name!r}; it has {len(names)}, such as "
            f"{sorted(names)[:6]} (taskgym.envs.reasoning_gym.dataset_names() lists them)"
        )


def _item_request(name: str, level: int | None, config: Mapping[str, Any]) -> dict[str, Any]:
    return {"dataset": name, "level": level, "config": dict(config)}


def check_config(name: str, level: int | None, config: Mapping[str, Any]) -> None:
    """Raise a ConfigError saying what is wrong unless dataset ``name`` can be made at
    ``level`` (of its curriculum) with ``config`` (its config's fields, over the level's)."""
    _known(name)
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise ConfigError(f"level must be an int or None, got {level!r}")
    reply = _ask({"op": "check", **_item_request(name, level, config)})
    if "bad" in reply:
        raise ConfigError(
            f"reasoning-gym refused {name!r} at level {level} with {dict(config)}: {reply['bad']}"
        )


def make_item(name: str, level: int | None, config: Mapping[str, Any], seed: int) -> DatasetItem:
    """Item 0 of dataset ``name`` made at ``level`` with ``config`` and seed ``seed``:
    reasoning-gym makes item ``i`` from ``Random(seed + i)``, so this is a pure function
    of the four."""
    reply = _ask({"op": "item", "seed": seed, **_item_request(name, level, config)})
    answer, example = reply["answer"], reply.get("example")
    return DatasetItem(
        str(reply["question"]),
        None if answer is None else str(answer),
        None if example is None else str(example),
    )


def score_answer(
    name: str,
    level: int | None,
    config: Mapping[str, Any],
    seed: int,
    answer: str,
    *,
    seconds: float,
) -> Score:
    """reasoning-gym's score of ``answer`` on that item, within ``seconds`` of scoring
    (the item is made first, outside them). Raises CheckerError where reasoning-gym
    fails otherwise."""
    item = {"seed": seed, **_item_request(name, level, config)}
    _ask({"op": "prepare", **item})  # the item is made (some take seconds) before the clock
    request = {"op": "score", "answer": answer, **item}
    try:
        reply = _worker().ask(request, seconds)
    except WorkerTimeout:
        return Score(0.0, f"score_answer took more than {seconds} s")
    except WorkerFailed as e:  # the answer may crash what scores it: the agent's doing
        return Score(0.0, f"the scoring worker died on the answer: {e}")
    if "error" in reply:
        raise CheckerError(f"reasoning-gym's {name!r} failed: {reply['error']}")
    if "refused" in reply:
        return Score(0.0, f"score_answer raised: {reply['refused']}")
    value = reply.get("score")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckerError(f"the scoring worker replied {reply!r}")
    return Score(float(value))
