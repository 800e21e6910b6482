"""``taskgym new-task FAMILY NAME``: the skeleton of a task that passes the checks as
written, with its blanks marked ``TODO``. Each family gets its kind of task:

- ``shell``: a shell task directory (``task.json``, ``setup.sh``, ``solution.sh``; see
  docs/shell-tasks.md), data that ``ShellTasks-v0`` plays (``tasks=DIR``).
- ``code``: a function task directory (``task.json``, ``solution.py``; see
  docs/code-tasks.md), data that ``CodeTests-v0`` plays (``tasks=DIR``).
- any other family (``math``, one of your own): a task module reading its problems
  from a JSONL file beside it (two example problems), and a test that registers the env
  from wherever the module is and runs :func:`taskgym.testing.check_task` on it.

With ``project``, a task module is written as an installable project instead (see
:func:`new_task_project`): a package whose entry point of group ``taskgym.tasks``
registers the env, so that ``pip install`` makes it known to every ``taskgym`` command
and trainer without a fork of taskgym.

Fill in the blanks, keep ``taskgym validate`` (or the test) green, and ship it as the
printed lines say (see CONTRIBUTING.md)."""

from __future__ import annotations

import json
import keyword
import re
from pathlib import Path

from taskgym.errors import ConfigError

__all__ = ["new_task", "new_task_project"]

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
    """TODO: what an episode is. Options are dataclass fields: make(..., tasks=...)."""

    tasks: str = str(PROBLEMS)
    family: ClassVar[str] = "{family}"
    _problems: dict[str, Problem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = {{}}
        # Errors name the file and line (a line that is not a JSON object, say).
        for where, record in read_json_objects(self.tasks, what="problem file", item="problem"):
            if not all(isinstance(record.get(key), str) for key in ("id", "prompt", "answer")):
                raise ConfigError(f"{{where}}: id, prompt and answer must be strings")
            problems[record["id"]] = Problem(
                id=record["id"],
                prompt=record["prompt"],
                solution=(record["answer"],),  # what the oracle plays: a right answer
                data={{"answer": record["answer"]}},  # what check() needs
            )
        if not problems:
            raise ConfigError(f"no problems in {{self.tasks}}")
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

# The module beside this test, named from this test's own package, so that the two can
# move together anywhere (a directory on sys.path, a package).
_PACKAGE = __name__.rpartition(".")[0]
ENTRY_POINT = f"{{_PACKAGE + '.' if _PACKAGE else ''}}{module}:{cls}"


def test_{module}_passes_conformance() -> None:
    env_id = register_task(
        "{name}",
        ENTRY_POINT,
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


_SHELL_TASK = {
    "id": "{task_id}",
    "instruction": "TODO: what the agent is asked. How many lines does notes.txt have? "
    "Write just the number to count.txt.",
    "checks": [{"file_equals": "count.txt", "text": "3"}, {"unchanged": "notes.txt"}],
}
_SHELL_SETUP = (
    "# TODO: the starting state, built in the work directory.\nprintf 'a\\nb\\nc\\n' > notes.txt\n"
)
_SHELL_SOLUTION = "wc -l < notes.txt > count.txt\n"

_FUNCTION_TASK = {
    "id": "{task_id}",
    "prompt": "TODO: what the function does. Write `{function}(a, b)`: the sum of a and b.",
    "entry_point": "{function}",
    "examples": [{"args": [1, 2], "expected": 3}],
    "tests": [{"args": [2, 2], "expected": 4}, {"args": [-5, 5], "expected": 0}],
}
_FUNCTION_SOLUTION = "def {function}(a, b):\n    return a + b  # TODO: the reference\n"

DATA_FAMILIES = {"shell": "taskgym/ShellTasks-v0", "code": "taskgym/CodeTests-v0"}
"""The families whose tasks are data, and the env that plays a directory of them."""


def new_task(family: str, name: str, directory: Path, *, package: str | None = None) -> list[Path]:
    """Write the skeleton of task ``name`` (CamelCase, the env id's name) of ``family``
    into ``directory``, refusing to overwrite; returns the files written.

    ``shell`` and ``code``: one task directory ``directory/<name-in-kebab-case>`` (see
    the module docstring). Other families: ``<module>.py``, ``<module>.jsonl`` and
    ``test_<module>.py`` in ``directory``; ``package`` is not needed by them (the test
    finds the module from its own package) and is only checked to be a dotted name."""
    _check_names(family, name)
    if package is not None and not all(p.isidentifier() for p in package.split(".")):
        raise ConfigError(f"a package is a dotted Python name, got {package!r}")
    module = module_name(name)
    if family in DATA_FAMILIES:
        files = _data_task(family, module, directory / module.replace("_", "-"))
    else:
        files = _task_module(family, name, module, directory)
    return _write(files)


def _check_names(family: str, name: str) -> None:
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        raise ConfigError(
            f"a task name is CamelCase letters and digits, such as WordLadder; got {name!r}"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]*", family):
        raise ConfigError(
            f"a family is a lower-case word such as math, code, shell; got {family!r}"
        )


def _write(files: dict[Path, str]) -> list[Path]:
    """Write ``files``, none of them if any exists already."""
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise ConfigError(f"not overwriting {existing}: choose another name or directory")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)


def module_name(name: str) -> str:
    """The module (and function) name of task ``name``: WordLadder -> word_ladder."""
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if keyword.iskeyword(module):
        raise ConfigError(f"{name!r} makes the name {module!r}, a Python keyword")
    return module


def _data_task(family: str, module: str, task_dir: Path) -> dict[Path, str]:
    if family == "shell":
        task_id = f"shell-{task_dir.name}"  # as the bundled shell tasks' ids
        manifest = json.loads(json.dumps(_SHELL_TASK).replace("{task_id}", task_id))
        return {
            task_dir / "task.json": json.dumps(manifest, indent=2) + "\n",
            task_dir / "setup.sh": _SHELL_SETUP,
            task_dir / "solution.sh": _SHELL_SOLUTION,
        }
    text = json.dumps(_FUNCTION_TASK).replace("{task_id}", task_dir.name)
    text = text.replace("{function}", module)
    return {
        task_dir / "task.json": json.dumps(json.loads(text), indent=2) + "\n",
        task_dir / "solution.py": _FUNCTION_SOLUTION.format(function=module),
    }


def _task_module(family: str, name: str, module: str, directory: Path) -> dict[Path, str]:
    cls = f"{name}Task"
    return {
        directory / f"{module}.py": _MODULE.format(
            title=name, module=module, cls=cls, family=family
        ),
        directory / f"{module}.jsonl": "".join(json.dumps(e) + "\n" for e in _EXAMPLES),
        directory / f"test_{module}.py": _TEST.format(
            env_id=f"taskgym/{name}-v0", module=module, name=name, cls=cls, family=family
        ),
    }


_PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "TODO: one line on the task {name}"
requires-python = ">=3.10"
dependencies = ["taskgym"]

# `pip install` this, and every taskgym command (run, validate, list, serve) and trainer
# adapter finds taskgym/{name}-v0: the entry point's module registers it when loaded.
[project.entry-points."taskgym.tasks"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]

[tool.setuptools.package-data]
{package} = ["*.jsonl"]
"""

_PACKAGE_INIT = '''"""The task {name} for taskgym, registered as taskgym/{name}-v0 when
taskgym loads this package's entry point (group taskgym.tasks in pyproject.toml)."""

from taskgym.registry import register_task

register_task(
    "{name}",
    "{package}.{module}:{cls}",
    family="{family}",
    description="TODO: one line for `taskgym list`.",
)
'''

_PROJECT_TEST = '''"""Conformance of taskgym/{name}-v0 as installed: run with pytest once
the project is installed (pip install -e .), so that taskgym finds it by its entry point."""

from taskgym.testing import check_task


def test_{module}_passes_conformance() -> None:
    check_task("taskgym/{name}-v0")
'''


def new_task_project(family: str, name: str, directory: Path) -> list[Path]:
    """Write task ``name`` of ``family`` as an installable project in ``directory``:
    ``pyproject.toml`` (distribution ``taskgym-<name>`` with the ``taskgym.tasks`` entry
    point), the package ``taskgym_<module>`` (its ``__init__.py`` registers the env; the
    task module and its problems) and ``tests/test_<module>.py``; refusing to overwrite.
    Returns the files written, the pyproject first."""
    if family in DATA_FAMILIES:
        raise ConfigError(
            f"{family} tasks are data played by {DATA_FAMILIES[family]} (--set tasks=DIR), "
            "not a module: write them without --project and ship the directory"
        )
    _check_names(family, name)
    module = module_name(name)
    package = f"taskgym_{module}"
    cls = f"{name}Task"
    fields = {"name": name, "module": module, "package": package, "cls": cls, "family": family}
    files = {
        directory / "pyproject.toml": _PYPROJECT.format(dist=_dist_name(module), **fields),
        directory / package / "__init__.py": _PACKAGE_INIT.format(**fields),
        **{
            directory / package / path.name: text
            for path, text in _task_module(family, name, module, Path()).items()
            if not path.name.startswith("test_")
        },
        directory / "tests" / f"test_{module}.py": _PROJECT_TEST.format(**fields),
    }
    return _write(files)


def _dist_name(module: str) -> str:
    """The distribution's name: word_ladder -> taskgym-word-ladder."""
    return "taskgym-" + module.replace("_", "-")
