"""Each task family builds on ``taskgym.envs.common`` and on no other family.

A family is a package under ``taskgym/envs/`` (math, code, shell, and any added later);
``common`` is the floor they share. Every module of a family (its task data under
``data/`` is not package code) is read with :mod:`ast`, and each ``import`` and ``from``
wherever it stands (module level, in a function, under ``if TYPE_CHECKING``), relative
ones made absolute, must name no other family's package; the modules of ``common`` may
name no family at all. What more than one family needs moves to ``common``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import taskgym

ENVS = Path(taskgym.__file__).parent / "envs"
COMMON = "common"


def families() -> list[str]:
    """The packages under ``taskgym/envs/`` but ``common``."""
    return sorted(
        d.name
        for d in ENVS.iterdir()
        if (d / "__init__.py").is_file() and d.name != COMMON and not d.name.startswith("_")
    )


def _modules(package: str) -> dict[str, Path]:
    """The dotted name and path of each module of ``taskgym.envs.<package>``."""
    root = ENVS / package
    modules = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "data" in relative.parts[:-1]:  # task data: the agent's world, not package code
            continue
        parts = ("taskgym", "envs", package, *relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, dotted name)`` for each name the imports of ``source`` (the text of
    ``module``) reach: ``from a import b`` reaches ``a`` and ``a.b``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def family_of(name: str, known: list[str]) -> str | None:
    """The family whose package ``name`` is in (or is), else None."""
    parts = name.split(".")
    if parts[:2] == ["taskgym", "envs"] and len(parts) > 2 and parts[2] in known:
        return parts[2]
    return None


def crossings(package: str, known: list[str]) -> list[str]:
    """Each import in ``taskgym.envs.<package>`` of a family other than ``package``, as
    ``path:line: module`` (the shortest name it reaches there)."""
    found: dict[tuple[str, int], str] = {}
    for module, path in _modules(package).items():
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ENVS.parent.parent))
        for line, name in imported(source, module, path.name == "__init__.py"):
            family = family_of(name, known)
            if family is not None and family != package:
                shortest = found.get((where, line), name)
                found[(where, line)] = min(shortest, name, key=len)
    return [f"{where}:{line}: {name}" for (where, line), name in sorted(found.items())]


def test_the_families_are_found() -> None:
    assert {"math", "code", "shell"} <= set(families())
    assert COMMON not in families()
    assert "taskgym.envs.common.records" in _modules(COMMON)
    assert not any(".data." in m for m in _modules("code"))  # bundled projects skipped


def test_the_reader_sees_every_form_of_import() -> None:
    known = ["math", "code", "shell"]
    source = (
        "from __future__ import annotations\n"
        "import taskgym.envs.shell.tasks\n"
        "from taskgym.envs import code\n"
        "from taskgym.envs.common.records import RecordsTask\n"
        "from ..code.records import read_records\n"
        "from .answers import find_answer\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from taskgym.envs.shell import checks\n"
        "def late():\n"
        "    from taskgym.envs.code.grader import grade_function\n"
    )
    names = imported(source, "taskgym.envs.math.gsm8k", is_package=False)
    reached = {(line, family_of(name, known)) for line, name in names}
    for line, family in [(2, "shell"), (3, "code"), (5, "code"), (6, "math"), (9, "shell")]:
        assert (line, family) in reached
    assert (11, "code") in reached  # inside a function
    assert {family for line, family in reached if line == 4} == {None}  # common: no family
    in_package = imported("from . import checks\n", "taskgym.envs.shell", is_package=True)
    assert (1, "taskgym.envs.shell.checks") in in_package


def test_no_family_imports_another() -> None:
    known = families()
    found = [c for family in known for c in crossings(family, known)]
    assert found == [], (
        "a family imports another (move what they share to taskgym/envs/common/):\n"
        + "\n".join(found)
    )


def test_common_imports_no_family() -> None:
    found = crossings(COMMON, families())
    assert found == [], "taskgym/envs/common/ imports a family:\n" + "\n".join(found)
