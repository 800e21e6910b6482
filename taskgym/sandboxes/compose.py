"""Putting modules of :mod:`taskgym.inside` together into one program for ``python3 -c``
(host side: this module is never sent into a sandbox).

Inside a sandbox taskgym is not importable, so a program made of several modules is sent
as their sources joined in order, and each ``from taskgym.inside.<m> import ...`` of an
earlier module in the list is dropped: the names it imports are already defined above
it. Anything else that names taskgym would work on the host and fail in the sandbox, so
it is an error here, when the host builds the program, and never a silent drop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import taskgym.inside

__all__ = ["ComposeError", "compose_source"]

INSIDE = Path(taskgym.inside.__file__).parent
_PACKAGE = "taskgym.inside"
_FUTURE = "from __future__ import annotations\n"


class ComposeError(ValueError):
    """Modules that cannot run as one program in a sandbox (an import of taskgym that
    the sandbox cannot satisfy, or two modules defining the same name)."""


def compose_source(*modules: str) -> str:
    """The sources of ``modules`` (names of modules of :mod:`taskgym.inside`) joined into
    one program for ``python3 -c``: their ``from __future__`` lines and their imports of
    each other dropped, and, but for the last, their ``__main__`` blocks (only the last
    module is the program; the others are libraries to it). ComposeError for any other
    import of taskgym, and for a name two of them define (one namespace holds them all)."""
    parts = []
    defined: dict[str, str] = {}
    for position, module in enumerate(modules):
        path = INSIDE / f"{module}.py"
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, str(path))
        for name in _top_level_names(tree):
            if defined.setdefault(name, module) != module:
                raise ComposeError(
                    f"{name!r} is defined in both {defined[name]} and {module}: composed "
                    "into one program, the later would replace the earlier"
                )
        dropped = _imports_to_drop(tree, module, modules[:position])
        if position < len(modules) - 1:
            dropped |= _main_block(tree)
        lines = source.splitlines(keepends=True)
        parts.append(
            "".join(
                line
                for number, line in enumerate(lines, start=1)
                if number not in dropped and line != _FUTURE
            )
        )
    return _FUTURE + "\n".join(parts)


def _imports_to_drop(tree: ast.Module, module: str, earlier: tuple[str, ...]) -> set[int]:
    """The line numbers of ``module``'s imports of the ``earlier`` modules (its
    top-level ``from taskgym.inside.<m> import name, ...``); ComposeError for any other
    import that names taskgym, wherever it stands."""
    top_level = set(map(id, tree.body))
    dropped: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or not _names_taskgym(node):
            continue
        where = f"{module}.py:{node.lineno}"
        sibling = _sibling(node)
        if sibling is None or id(node) not in top_level:
            raise ComposeError(
                f"{where}: only a top-level `from {_PACKAGE}.<module> import name` can be "
                "composed (taskgym is not importable in the sandbox)"
            )
        if sibling not in earlier:
            raise ComposeError(
                f"{where}: imports {_PACKAGE}.{sibling}, which is not composed before "
                f"{module} (modules: {', '.join(earlier) or 'none'}): it would fail in "
                "the sandbox"
            )
        assert node.end_lineno is not None  # set by ast.parse
        dropped.update(range(node.lineno, node.end_lineno + 1))
    return dropped


def _names_taskgym(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        # A relative import inside taskgym.inside reaches taskgym too.
        return node.level > 0 or (node.module or "").split(".")[0] == "taskgym"
    return any(alias.name.split(".")[0] == "taskgym" for alias in node.names)


def _sibling(node: ast.Import | ast.ImportFrom) -> str | None:
    """``m`` for ``from taskgym.inside.m import a, b`` (no ``as``: the composed program
    knows each name only as its module defines it), else None."""
    if not isinstance(node, ast.ImportFrom) or node.level:
        return None
    package, _, sibling = (node.module or "").rpartition(".")
    if package != _PACKAGE or any(alias.asname for alias in node.names):
        return None
    return sibling


def _main_block(tree: ast.Module) -> set[int]:
    """The lines of the module's ``if __name__ == "__main__":`` block."""
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            assert node.end_lineno is not None  # set by ast.parse
            return set(range(node.lineno, node.end_lineno + 1))
    return set()


def _top_level_names(tree: ast.Module) -> list[str]:
    """The names a module defines at its top level (functions, classes, assignments);
    imports are left out: importing the same module twice binds the same object."""
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names += [
                    n.id
                    for n in ast.walk(target)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                ]
    return names
