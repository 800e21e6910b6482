"""Project tasks: the agent edits a small project over several turns; a hidden pytest
suite grades the files it leaves.

A task is one directory (documented in ``docs/code-tasks.md``)::

    inventory/
      task.json    {"id": "inventory", "prompt": "...",                       required
                    "modules": ["inventory"],  the project's importable names (default:
                                               its top-level .py files and packages)
                    "max_turns": 12, "test_seconds": 60, "call_seconds": 10,
                    "run_seconds": 10}
      files/       the starting project: written to the work directory, shown in the prompt
      tests/       the hidden pytest suite (test_*.py, conftest.py, helpers); never shown
      solution/    files that, written over files/, pass every hidden test (the oracle)

``ProjectTestsTask(tasks=...)`` takes a task directory or a directory of them.

Each turn the agent writes files, reads files, runs shell commands or submits (see
:data:`ACTIONS`); when it submits or its turns run out,
:func:`~taskgym.envs.common.project_tests.grade_project` runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from taskgym.core import Execution, Problem, Reply, Tool, Turn, Verdict
from taskgym.envs.common.project_tests import (
    MAX_FILE_BYTES,
    MAX_FILES,
    ProjectRecord,
    grade_project,
)
from taskgym.envs.common.records import (
    MultiTurnRecordsTask,
    deprecated_path,
    read_manifest,
    read_task_dirs,
    take_deprecated_path,
)
from taskgym.errors import ConfigError
from taskgym.sandboxes import Sandbox

__all__ = [
    "ACTIONS",
    "BUNDLED_PROJECTS",
    "ProjectTestsTask",
    "load_project_tasks",
]

BUNDLED_PROJECTS = str(Path(__file__).with_name("data") / "projects")
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "prompt": str,
    "modules": list,
    "max_turns": int,
    "test_seconds": (int, float),
    "call_seconds": (int, float),
    "run_seconds": (int, float),
}
# Names a project may not take: the tests process imports them for itself.
_RESERVED = {"pytest", "_pytest", "pluggy", "iniconfig", "py", "packaging", "taskgym"}


def load_project_tasks(path: str | Path) -> list[ProjectRecord]:
    """Read a task directory, or every task directory in ``path`` (sorted by name).
    ConfigError names the directory and what is wrong with it."""
    return read_task_dirs(path, _load_one, "project")


def _load_one(directory: Path) -> ProjectRecord:
    where = str(directory)
    raw = read_manifest(
        directory / "task.json", _FIELDS, required=("id", "prompt"), positive=_NUMBERS
    )
    files = _read_tree(directory / "files", where)
    tests = _read_tree(directory / "tests", where)
    solution = _read_tree(directory / "solution", where)
    if not any(Path(p).name.startswith("test_") for p in tests):
        raise ConfigError(f"{where}/tests holds no test_*.py file: a project needs hidden tests")
    if not solution:
        raise ConfigError(f"{where}/solution is empty: a project needs a reference solution")
    modules = tuple(raw.get("modules") or _top_level_modules({**files, **solution}))
    for module in modules:
        if not isinstance(module, str) or not module.isidentifier():
            raise ConfigError(f"{where}/task.json: module {module!r} is not a Python name")
        if module in _RESERVED or module in sys.stdlib_module_names:
            raise ConfigError(
                f"{where}: the project's module {module!r} has the name of a module the "
                "tests need (the standard library's or pytest's); rename it"
            )
    if not modules:
        raise ConfigError(f"{where}: the project has no Python module for the tests to import")
    numbers = {k: raw[k] for k in _NUMBERS if k in raw}
    return ProjectRecord(
        id=raw["id"], prompt=raw["prompt"], files=files, tests=tests, solution=solution,
        modules=modules, **numbers, source=where,
    )  # fmt: skip


_NUMBERS = ("max_turns", "test_seconds", "call_seconds", "run_seconds")


def _read_tree(directory: Path, where: str) -> dict[str, str]:
    if not directory.is_dir():
        if directory.name == "files":
            return {}
        raise ConfigError(f"{where}: the directory {directory.name}/ is missing")
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        relative = path.relative_to(directory).as_posix()
        if len(files) >= MAX_FILES or path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{where}: {directory.name}/ is too big (200 files of 1 MiB at most)")
        try:
            files[relative] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}: {directory.name}/{relative} is not UTF-8 text: {e}") from e
    return files


def _top_level_modules(files: dict[str, str]) -> list[str]:
    names = set()
    for relative in files:
        parts = relative.split("/")
        if len(parts) == 1 and parts[0].endswith(".py"):
            names.add(parts[0][:-3])
        elif len(parts) == 2 and parts[1] == "__init__.py":
            names.add(parts[0])
    return sorted(n for n in names if n.isidentifier() and not n.startswith("test"))


# -- the episode ---------------------------------------------------------------------

ACTIONS = """\
Each turn, answer with one or more of these blocks (they run in order):
<write path="relative/path.py">
the whole new content of the file
</write>
<read path="relative/path"/>
<run>a shell command, run in the project's directory (python3 -m pytest works there)</run>
<submit/>  (last: ends the episode, and the hidden tests grade the project)"""

# What one turn may ask for: longer actions are refused before they are parsed, and
# blocks past the limit are not done (each may cost a sandbox call of run_seconds).
_MAX_ACTION_CHARS = 2 << 20
_MAX_BLOCKS = 32
# A longer path is refused before the sandbox makes its directories, one by one.
_MAX_PATH_CHARS = 1024
_SHOWN_CHARS = 4000
_PROJECT_TOOLS = (
    Tool(
        "write_file",
        "Write the whole new content of a file of the project.",
        {"path": "a path relative to the project", "content": "the file's whole content"},
        lambda args: f'<write path="{args["path"]}">\n{args["content"]}</write>',
    ),
    Tool(
        "read_file",
        "Show a file of the project.",
        {"path": "a path relative to the project"},
        lambda args: f'<read path="{args["path"]}"/>',
    ),
    Tool(
        "run",
        "Run a shell command in the project's directory (python3 -m pytest works there).",
        {"command": "the shell command"},
        lambda args: f"<run>{args['command']}</run>",
    ),
    Tool(
        "submit", "End the episode: the hidden tests grade the project.", {}, lambda _: "<submit/>"
    ),
)


@dataclass(frozen=True)
class Block:
    """One block of an action: ``kind`` is ``write`` (``path``, ``text`` the content),
    ``read`` (``path``), ``run`` (``text`` the command) or ``submit``."""

    kind: str
    path: str = ""
    text: str = ""


def parse_blocks(action: str, limit: int | None = None) -> list[Block]:
    """The blocks of ``action`` in order (at most ``limit``), read as :data:`ACTIONS`
    describes them; text between blocks and unclosed blocks are ignored. Linear in the
    length of ``action``: each closing tag is searched for once from any point on, so a
    megabyte of unclosed ``<run>`` tags costs one scan, not one scan each."""
    blocks: list[Block] = []
    finder = _Finder(action)
    at = action.find("<")
    while at != -1 and (limit is None or len(blocks) < limit):
        block, end = _block_at(action, at, finder)
        if block is not None:
            blocks.append(block)
        at = action.find("<", end if block is not None else at + 1)
    return blocks


class _Finder:
    """``text.find(token, start)`` that remembers its last answer for each token: asked
    again from a later start that the answer still lies beyond (or for a token that is
    not there at all), it answers without scanning again."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._last: dict[str, tuple[int, int]] = {}  # token: (asked from, found at)

    def find(self, token: str, start: int) -> int:
        last = self._last.get(token)
        if last is not None and last[0] <= start and (last[1] == -1 or last[1] >= start):
            return last[1]
        found = self._text.find(token, start)
        self._last[token] = (start, found)
        return found


def _block_at(text: str, at: int, finder: _Finder) -> tuple[Block | None, int]:
    """The block that starts at ``at`` (a ``<``) and the position after it, or None."""
    for opener, read in _OPENERS:
        if text.startswith(opener, at):
            return read(text, at + len(opener), finder)
    return None, at


def _write_at(text: str, at: int, finder: _Finder) -> tuple[Block | None, int]:
    quote = finder.find('"', at)
    if quote == -1 or not text.startswith('">', quote):
        return None, at
    start = quote + 2
    start += text.startswith("\n", start)  # the newline after the tag is not content
    close = finder.find("</write>", start)
    if close == -1:
        return None, at
    return Block("write", text[at:quote], text[start:close]), close + len("</write>")


def _read_at(text: str, at: int, finder: _Finder) -> tuple[Block | None, int]:
    quote = finder.find('"', at)
    end = _after_space(text, quote + 1) if quote != -1 else -1
    if end == -1 or not text.startswith("/>", end):
        return None, at
    return Block("read", text[at:quote]), end + 2


def _run_at(text: str, at: int, finder: _Finder) -> tuple[Block | None, int]:
    close = finder.find("</run>", at)
    if close == -1:
        return None, at
    return Block("run", text=text[at:close]), close + len("</run>")


def _submit_at(text: str, at: int, finder: _Finder) -> tuple[Block | None, int]:
    end = _after_space(text, at)
    if not text.startswith("/>", end):
        return None, at
    return Block("submit"), end + 2


_OPENERS = (
    ('<write path="', _write_at),
    ('<read path="', _read_at),
    ("<run>", _run_at),
    ("<submit", _submit_at),
)


def _after_space(text: str, at: int) -> int:
    """The first position from ``at`` on that is not white space. (Each run of white
    space follows one tag's fixed text, so no run is skipped twice in a parse.)"""
    while at < len(text) and text[at].isspace():
        at += 1
    return at


@dataclass(frozen=True)
class ProjectTestsTask(MultiTurnRecordsTask):
    """Edit a project until its hidden pytest suite passes (multi-turn).

    Args:
        tasks: a project task directory, or a directory of them; default: the bundled
            ones. ``path=``, its old name, is still taken for one release.
    """

    tasks: str | None = None
    path: str | None = deprecated_path()  # the old name of tasks=
    family: ClassVar[str] = "code"
    execution: ClassVar[Execution] = Execution(needs_sandbox=True, hides_tests=True)

    def __post_init__(self) -> None:
        take_deprecated_path(self)
        records = load_project_tasks(self.tasks or BUNDLED_PROJECTS)
        self._keep({r.id: r for r in records})

    def tools(self) -> tuple[Tool, ...]:
        return _PROJECT_TOOLS

    def _problem_for(self, record: ProjectRecord) -> Problem:
        writes = "".join(
            f'<write path="{path}">\n{text}</write>\n' for path, text in record.solution.items()
        )
        prompt = _prompt(record, self.turns_told(record.max_turns))
        return Problem(id=record.id, prompt=prompt, solution=(writes + "<submit/>",))

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        for path, text in self._records_by_id[problem.id].files.items():
            sandbox.write_file(path, text)

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        record: ProjectRecord = self._records_by_id[problem.id]
        shown: list[str] = []
        if len(action) > _MAX_ACTION_CHARS:
            shown.append(
                f"Nothing was done: the action has {len(action)} characters, and at most "
                f"{_MAX_ACTION_CHARS} are read."
            )
            blocks = []
        else:
            blocks = parse_blocks(action, limit=_MAX_BLOCKS + 1)
        for block in blocks[:_MAX_BLOCKS]:
            if block.kind == "submit":
                return Reply("\n\n".join([*shown, "Submitted."]), done=True)
            shown.append(_perform(block, sandbox, record))
        if len(blocks) > _MAX_BLOCKS:
            shown.append(
                f"Only the first {_MAX_BLOCKS} blocks of a turn are done; the rest were not."
            )
        if not shown:
            shown.append("No action found.\n" + ACTIONS)
        # Counted from the env's limit where it is lower; the env then ends the episode.
        left = self.turns_told(record.max_turns) - len(transcript) - 1
        if left <= 0:
            own_end = len(transcript) + 1 >= record.max_turns
            return Reply("\n\n".join([*shown, "No turns left: the project is graded."]), own_end)
        shown.append(f"[{left} turn(s) left]")
        return Reply("\n\n".join(shown))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return grade_project(sandbox, self._records_by_id[problem.id])


def _perform(block: Block, sandbox: Sandbox, record: ProjectRecord) -> str:
    if block.kind in ("write", "read") and len(block.path) > _MAX_PATH_CHARS:
        cut = f"{block.kind} {block.path[:80]}..."
        return f"{cut}: failed (a path has {_MAX_PATH_CHARS} characters at most)"
    if block.kind == "write":
        try:
            sandbox.write_file(block.path, block.text)
        except (ValueError, OSError) as e:
            return f"write {block.path}: failed ({e})"
        return f"write {block.path}: done"
    if block.kind == "read":
        try:
            data = sandbox.read_file(block.path, max_bytes=_SHOWN_CHARS * 4)
        except (ValueError, OSError) as e:
            return f"read {block.path}: failed ({e})"
        return f"read {block.path}:\n{_cut(data.decode('utf-8', errors='replace'))}"
    result = sandbox.run(block.text, timeout=record.run_seconds)
    if result.timed_out:
        status = f"timed out after {record.run_seconds:g} s"
    else:
        status = f"exit code {result.exit_code}"
    return f"run: {status}\n{_cut(result.out + result.err)}"


def _cut(text: str) -> str:
    if len(text) <= _SHOWN_CHARS:
        return text
    half = _SHOWN_CHARS // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def _prompt(record: ProjectRecord, turns: int) -> str:
    parts = [record.prompt.rstrip(), "The project's files (in the working directory):"]
    parts += [f"--- {path} ---\n{text.rstrip()}" for path, text in record.files.items()]
    if not record.files:
        parts.append("(none yet)")
    parts.append(
        f"{ACTIONS}\n\nYou have {turns} turns; when they run out, the files as "
        "they are then are graded."
    )
    return "\n\n".join(parts)
