"""The package's import graph has no cycle, and the executors import each other only
through their base: Ray is imported only when the ``ray`` executor is chosen.

The graph is read with :mod:`ast` from every module of the package (the task data
under ``envs/*/data`` is not package code): an edge for each ``import`` or ``from``
of a taskgym module, wherever it stands (module level, in a function, under ``if
TYPE_CHECKING``), to the module named (``from a import b`` names ``a.b`` when that is
a module, else ``a``). The import of a module's parent packages, which Python does
first, is not an edge: else every ``from taskgym.x import y`` would close a loop with
``taskgym/__init__.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import taskgym

PACKAGE = Path(taskgym.__file__).parent
TASK_DATA = ("envs/code/data", "envs/shell/data")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if any(relative.is_relative_to(data) for data in TASK_DATA):
            continue
        parts = ("taskgym", *relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _named(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names ``node`` imports (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    return [f"{base}.{alias.name}" for alias in node.names]


def import_graph(*, at_run_time: bool = False) -> dict[str, set[str]]:
    """Each taskgym module and the taskgym modules it imports; ``at_run_time``: but for
    the imports under ``if TYPE_CHECKING``, which only type checkers follow."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if at_run_time:
            tree = _TypeCheckingDropped().visit(tree)
        edges = set()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _named(node, module, path.name == "__init__.py"):
                target = name
                while target and target not in modules:  # a.b.c -> a.b when c is not one
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


class _TypeCheckingDropped(ast.NodeTransformer):
    """The tree without the bodies of ``if TYPE_CHECKING:`` (their ``else`` kept)."""

    def visit_If(self, node: ast.If) -> ast.AST:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
        if name == "TYPE_CHECKING":  # or typing.TYPE_CHECKING
            node.body = []
        return self.generic_visit(node)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each group of modules that import each
    other, found by depth-first search."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" once left

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, path)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_the_graph_sees_module_function_and_type_checking_imports() -> None:
    graph = import_graph()
    assert "taskgym.parallel.dispatching" in graph["taskgym.parallel.ray_executor"]
    assert "taskgym" in graph["taskgym.parallel.ray_executor"]  # in a function
    assert "taskgym.parallel.base" in graph["taskgym.batch"]  # under TYPE_CHECKING
    assert "taskgym.envs" in graph["taskgym"]  # from taskgym import envs
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_taskgym_module_imports_itself_through_others() -> None:
    loops = [" -> ".join(cycle) for cycle in cycles(import_graph())]
    assert loops == [], "import cycles:\n" + "\n".join(loops)


def test_the_executors_load_without_ray_and_keep_their_old_import_paths() -> None:
    code = (
        "import sys\n"
        "from taskgym.parallel import EpisodeSpec, make_executor\n"
        "with make_executor('inline') as executor:\n"
        "    [result] = executor.map([EpisodeSpec('taskgym/ArithmeticEasy-v0', seed=1)])\n"
        "print(result.ok, [m for m in ('ray', 'taskgym.parallel.ray_executor')"
        " if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True []"

    from taskgym import parallel
    from taskgym.parallel import executors
    from taskgym.parallel.base import ThreadCaches
    from taskgym.parallel.dispatching import DispatchingExecutor

    assert executors.DispatchingExecutor is DispatchingExecutor
    assert executors.ThreadCaches is ThreadCaches
    for name in ("Executor", "InlineExecutor", "ProcessExecutor", "as_completed"):
        assert getattr(executors, name) is getattr(parallel, name), name


def test_core_imports_nothing_of_the_package_but_its_errors_at_run_time() -> None:
    # The episode contract stands below everything; annotations may name the Sandbox.
    assert import_graph(at_run_time=True)["taskgym.core"] == {"taskgym.errors"}
    assert "taskgym.sandboxes.base" in import_graph()["taskgym.core"]  # TYPE_CHECKING
