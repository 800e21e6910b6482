"""``taskgym new-task FAMILY NAME``: the skeleton of a task that passes the conformance
checks as written, with its blanks marked ``TODO``: a task module reading its problems
from a JSONL file beside it (two example problems), and a test that registers the env
and runs :func:`taskgym.testing.check_task` on it. Fill in the problems and the check,
keep the test green, and add the printed ``register_task`` line to the family's
``__init__.py`` (see CONTRIBUTING.md)."""

from __future__ import annotations

import json
import keyword
import re
from pathlib import Path

from taskgym.errors import ConfigError

__all__ = ["new_task"]

_MODULE = '''"""{title}: TODO one line on what the agent is asked and how it is checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from taskgym import ConfigError, Problem, Task, Turn, UnknownTaskIdError, Verdict
from taskgym.jsonl import read_json_objects
from taskgym.sandboxes import Sandbox

PROBLEMS = Path(__file__).with_name("{module}.jsonl")
"""One JSON object a line: id, prompt, answer (TODO: the fields your check needs)."""


@dataclass(frozen=True)
class {cls}(Task):
    """TODO: what an episode is. Options are dataclass fields: make(..., path=...)."""

    path: str = str(PROBLEMS)
    family: ClassVar[str] = "{family}"
    _problems: dict[str, Problem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = {{}}
        # Errors name the file and line (a line that is not a JSON object, say).
        for where, record in read_json_objects(self.path, what="problem file", item="problem"):
            if not all(isinstance(record.get(key), str) for key in ("id", "prompt", "answer")):
                raise ConfigError(f"{{where}}: id, prompt and answer must be strings")
            problems[record["id"]] = Problem(
                id=record["id"],
                prompt=record["prompt"],
                solution=(record["answer"],),  # what the oracle plays: a right answer
                data={{"answer": record["answer"]}},  # what check() needs
            )
        if not problems:
            raise ConfigError(f"no problems in {{self.path}}")
        object.__setattr__(self, "_problems", problems)

    def task_ids(self) -> list[str]:
        return sorted(self._problems)

    def problem(self, seed: int) -> Problem:
        ids = self.task_ids()
        return self._problems[ids[seed % len(ids)]]

    def get(self, task_id: str) -> Problem:
        if task_id not in self._problems:
            raise UnknownTaskIdError(f"no problem {{task_id!r}}; the ids are {{self.task_ids()}}")
        return self._problems[task_id]

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        # TODO: your check. Agent mistakes are verdicts, never exceptions: an answer that
        # cannot be read is Verdict.unparsed(...), a wrong one passes 0 of its checks.
        answer = transcript[-1].action.strip()
        if not answer or len(answer) > 1000:
            return Verdict.unparsed("no answer, or one too long to be an answer")
        expected = str(problem.data["answer"])
        return Verdict(True, int(answer == expected), 1, {{"answer": answer[:200]}})
'''

_TEST = '''"""Conformance of {env_id}: run with pytest."""

from taskgym.registry import register_task
from taskgym.testing import check_task


def test_{module}_passes_conformance() -> None:
    env_id = register_task(
        "{name}",
        "{import_path}:{cls}",
        family="{family}",
        description="TODO: one line for `taskgym list`.",
    )
    check_task(env_id)
'''

_EXAMPLES = [
    {
        "id": "example-1",
        "prompt": "TODO: a prompt. What is 2 + 2? Answer with a number.",
        "answer": "4",
    },
    {
        "id": "example-2",
        "prompt": "TODO: another. What is 3 * 3? Answer with a number.",
        "answer": "9",
    },
]


def new_task(family: str, name: str, directory: Path, *, package: str | None = None) -> list[Path]:
    """Write ``<module>.py``, ``<module>.jsonl`` and ``test_<module>.py`` for task
    ``name`` (CamelCase, the env id's name) of ``family`` into ``directory``; refuse to
    overwrite. ``package`` is the dotted package of ``directory`` (None: importable as
    a top-level module, for a directory on ``sys.path``). Returns the files written."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise ConfigError(
            f"a task name is CamelCase letters and digits, such as WordLadder; got {name!r}"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]*", family):
        raise ConfigError(
            f"a family is a lower-case word such as math, code, shell; got {family!r}"
        )
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if keyword.iskeyword(module):
        raise ConfigError(f"{name!r} makes the module name {module!r}, a Python keyword")
    cls = f"{name}Task"
    import_path = f"{package}.{module}" if package else module
    files = {
        directory / f"{module}.py": _MODULE.format(
            title=name, module=module, cls=cls, family=family
        ),
        directory / f"{module}.jsonl": "".join(json.dumps(e) + "\n" for e in _EXAMPLES),
        directory / f"test_{module}.py": _TEST.format(
            env_id=f"taskgym/{name}-v0",
            module=module,
            name=name,
            import_path=import_path,
            cls=cls,
            family=family,
        ),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise ConfigError(f"not overwriting {existing}: choose another name or directory")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    return list(files)
