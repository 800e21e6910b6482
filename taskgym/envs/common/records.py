"""Reading task files (JSONL, one task a line) and task directories (one a task, with a
``task.json``) with errors that name the file, the line and the field at fault; shared by
the task formats of every family."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from taskgym.core import Problem, Task
from taskgym.envs.common.turns import TurnsTold
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.jsonl import read_json_objects

__all__ = [
    "FieldTypes",
    "MultiTurnRecordsTask",
    "RecordsTask",
    "check_fields",
    "deprecated_path",
    "read_manifest",
    "read_records",
    "read_records_or_dirs",
    "read_task_dirs",
    "take_deprecated_path",
]

FieldTypes = Mapping[str, type | tuple[type, ...]]


def read_records(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for each non-blank line (a ``.gz`` file is read through gzip),
    ``where`` being ``file:line``; an id used twice and an empty file are errors."""
    seen: set[str] = set()
    found = False
    for where, raw in read_json_objects(path, what="task file", item="task"):
        found = True
        yield where, raw  # the caller checks the record's fields first, then its id here
        task_id = raw.get("id")
        if task_id in seen:
            raise ConfigError(f"{where}: the id {task_id!r} is used twice")
        if isinstance(task_id, str):
            seen.add(task_id)
    if not found:
        raise ConfigError(f"{path} holds no task")


class _DirRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...


_R = TypeVar("_R", bound=_DirRecord)


def read_task_dirs(path: str | Path, load_one: Callable[[Path], _R], kind: str) -> list[_R]:
    """Tasks kept as one directory each (with a ``task.json``): ``path`` is one such
    directory or holds several (read in name order). ConfigError names the directory
    at fault, an empty one, and ids used twice."""
    root = Path(path)
    if (root / "task.json").is_file():
        return [load_one(root)]
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory of {kind} tasks")
    records = [load_one(d) for d in sorted(root.iterdir()) if (d / "task.json").is_file()]
    if not records:
        raise ConfigError(f"{root} holds no {kind} task (a directory with a task.json)")
    seen: dict[str, str] = {}
    for record in records:
        if record.id in seen:
            raise ConfigError(f"{record.source}: the id {record.id!r} is also {seen[record.id]}'s")
        seen[record.id] = record.source
    return records


def read_records_or_dirs(
    path: str | Path, make: Callable[[dict[str, Any], str], _R], kind: str
) -> list[_R]:
    """Tasks whose reference is one Python file, from a JSONL file (one task a line, the
    reference in its ``solution`` field) or from task directories (see
    :func:`read_task_dirs`), each a ``task.json`` with the reference beside it as
    ``solution.py``. ``make(record, where)`` checks a record and builds the task."""
    if Path(path).is_dir():
        return read_task_dirs(path, lambda d: make(_with_solution(d), str(d / "task.json")), kind)
    return [make(raw, where) for where, raw in read_records(path)]


def _with_solution(directory: Path) -> dict[str, Any]:
    manifest = _json_object(directory / "task.json")
    if "solution" in manifest:
        raise ConfigError(f"{directory}/task.json: the reference is solution.py, not a field")
    solution = directory / "solution.py"
    if not solution.is_file():
        raise ConfigError(f"{directory}: solution.py is missing; a task needs a reference")
    return {**manifest, "solution": solution.read_text(encoding="utf-8")}


def _json_object(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path} cannot be read as JSON: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return raw


def read_manifest(
    path: Path, fields: FieldTypes, *, required: tuple[str, ...], positive: tuple[str, ...]
) -> dict[str, Any]:
    """A task directory's ``task.json``: a JSON object of known ``fields`` of the right
    types (a bool only where a bool is asked for), ``required`` ones non-empty,
    ``positive`` ones above zero. ConfigError names the file and the field."""
    raw = _json_object(path)
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {unknown}; known: {list(fields)}")
    for name, kind in fields.items():
        if name not in raw:
            continue
        # A bool is an int to isinstance: only a bool field takes one.
        wrong_bool = isinstance(raw[name], bool) is not (kind is bool)
        if wrong_bool or not isinstance(raw[name], kind):
            raise ConfigError(f"{path}: {name!r} has the wrong type")
    for name in required:
        if not raw.get(name):
            raise ConfigError(f"{path}: {name!r} is missing or empty")
    for name in positive:
        if name in raw and raw[name] <= 0:
            raise ConfigError(f"{path}: {name!r} must be positive")
    return raw


def check_fields(
    raw: dict[str, Any], where: str, required: FieldTypes, optional: FieldTypes
) -> None:
    unknown = set(raw) - set(required) - set(optional)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    for name, kind in {**required, **optional}.items():
        if name in raw and not isinstance(raw[name], kind):
            raise ConfigError(f"{where}: {name!r} has the wrong type ({type(raw[name]).__name__})")
        if name in required and name not in raw:
            raise ConfigError(f"{where}: the field {name!r} is missing")


def deprecated_path() -> Any:
    """The dataclass field of ``path=``, the old name of ``tasks=`` (where a task's
    problems are), still taken for one release: marked deprecated, so that ``taskgym``
    lists only ``tasks``."""
    return dataclasses.field(default=None, metadata={"deprecated": "tasks"})


def take_deprecated_path(task: Task) -> None:
    """Move a ``path=`` given to ``task`` into its ``tasks=``, with a DeprecationWarning;
    both given is a ConfigError. Call it first in ``__post_init__``."""
    path = getattr(task, "path", None)
    if path is None:
        return
    if getattr(task, "tasks", None):
        raise ConfigError("give tasks= alone: path= is its old name")
    warnings.warn(
        "path= is now tasks= (where the tasks are); path= goes in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    object.__setattr__(task, "tasks", path)
    object.__setattr__(task, "path", None)


class RecordsTask(Task):
    """A task whose problems are records read from a file and looked up by id.

    Subclasses (frozen dataclasses) call :meth:`_keep` in ``__post_init__`` with their
    records by id, in file order, and say in :meth:`_problem_for` how a record becomes a
    :class:`~taskgym.core.Problem`; seeds pick records in that order.
    """

    _records_by_id: dict[str, Any]
    _ids: list[str]

    def _keep(self, records_by_id: dict[str, Any]) -> None:
        object.__setattr__(self, "_records_by_id", records_by_id)
        object.__setattr__(self, "_ids", list(records_by_id))

    def problem(self, seed: int) -> Problem:
        return self.get(self._ids[seed % len(self._ids)])

    def task_ids(self) -> list[str]:
        return list(self._ids)

    def get(self, task_id: str) -> Problem:
        record = self._records_by_id.get(task_id)
        if record is None:
            raise UnknownTaskIdError(f"no task {task_id!r}; this env has {self._ids}")
        return self._problem_for(record)

    def _problem_for(self, record: Any) -> Problem:
        raise NotImplementedError


class MultiTurnRecordsTask(TurnsTold, RecordsTask):
    """Records that each carry their own turn limit (``max_turns``): multi-turn, and the
    env's default limit is the largest, so that no record is cut short. Prompts and
    replies tell the agent ``turns_told(record.max_turns)`` turns."""

    @property
    def multi_turn(self) -> bool:
        return True

    @property
    def default_max_turns(self) -> int:
        return max(int(r.max_turns) for r in self._records_by_id.values())
