"""What runs inside a sandbox (``taskgym/inside/``) imports only the standard library and
its siblings, and every program the host composes from it compiles and starts.

Inside a sandbox taskgym is not installed: an import of host code, or of a third-party
package, would work on the host and fail there. Each module is read with :mod:`ast`, and
each ``import`` and ``from`` wherever it stands (module level, in a function, under ``if
TYPE_CHECKING``) must name a module of ``sys.stdlib_module_names`` or of
``taskgym.inside``. :func:`taskgym.sandboxes.compose.compose_source` refuses the rest
when the host builds a program; its errors are tested here too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import taskgym.inside
from taskgym.envs.code import grader
from taskgym.envs.common import programs, project_tests
from taskgym.sandboxes import compose, docker
from taskgym.sandboxes.compose import ComposeError, compose_source
from taskgym.sandboxes.zygote import process as zygote
from tests.test_layout import imported

INSIDE = Path(taskgym.inside.__file__).parent
PACKAGE = "taskgym.inside"
# Imports beside the standard library, by module, each with its reason.
ALLOWED = {
    # The hidden tests are pytest suites: the tests process imports the sandbox's own
    # pytest (after site.main(), inside a function) to run them.
    "project_tests_process": {"pytest"},
}
# Every program the host composes from taskgym.inside, by where it is composed.
COMPOSED = {
    "docker's exec server": docker._SERVER_SOURCE,
    "the zygote": zygote._SERVER_SOURCE,
    "the function harness": programs.HARNESS_SOURCE,
    "the assert-style tests": grader._TEST_RUNNER_SOURCE,
    "the assert-style candidate": grader._CANDIDATE_SOURCE,
    "the project's tests process": project_tests._TESTS_SOURCE,
    "the project's candidate process": project_tests._CANDIDATE_SOURCE,
}


def outside(name: str, allowed: set[str]) -> bool:
    """Whether the module ``name`` is neither the standard library's nor a sibling's."""
    top = name.split(".", maxsplit=1)[0]
    sibling = name == PACKAGE or name.startswith(f"{PACKAGE}.")
    return not (sibling or top in sys.stdlib_module_names or top in allowed)


def test_the_reader_sees_every_form_of_import() -> None:
    source = (
        "from __future__ import annotations\n"
        "import os, json\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from taskgym.core import Task\n"
        "def late():\n"
        "    import numpy\n"
        "from .wire import read_message\n"
        "from taskgym.inside.values import tag\n"
    )
    found = imported(source, f"{PACKAGE}.harness", is_package=False)
    assert (5, "taskgym.core") in found  # under TYPE_CHECKING
    assert (7, "numpy") in found  # in a function
    assert (8, "taskgym.inside.wire") in found  # relative
    assert sorted({line for line, name in found if outside(name, set())}) == [5, 7]


def test_what_runs_inside_imports_only_the_standard_library_and_its_siblings() -> None:
    modules = sorted(INSIDE.glob("*.py"))
    assert {"wire", "zygote_server", "exec_server", "harness"} <= {p.stem for p in modules}
    found = [
        f"taskgym/inside/{path.name}:{line}: {name}"
        for path in modules
        for line, name in imported(
            path.read_text(encoding="utf-8"), f"{PACKAGE}.{path.stem}", path.stem == "__init__"
        )
        if outside(name, ALLOWED.get(path.stem, set()))
    ]
    assert found == [], (
        "taskgym/inside/ runs in sandboxes, where only the standard library is there:\n"
        + "\n".join(found)
    )
    for module, names in ALLOWED.items():  # each exception is still needed
        source = (INSIDE / f"{module}.py").read_text(encoding="utf-8")
        assert names <= {name for _, name in imported(source, f"{PACKAGE}.{module}", False)}, module


@pytest.mark.parametrize("program", list(COMPOSED))
def test_each_composed_program_starts_in_an_isolated_python(program: str) -> None:
    """Compiled, then run by ``python3 -I -S`` (no site-packages, so no import of
    anything but the standard library can succeed) until it has read its empty input."""
    source = COMPOSED[program]
    compile(source, program, "exec")
    stdin = '{"source": "", "entry_point": "f", "args": []}' if "harness" in program else ""
    result = subprocess.run(
        # The harness writes its results to fd 3: a place for them.
        ["sh", "-c", 'exec "$@" 3>/dev/null', "sh", sys.executable, "-I", "-S", "-c", source],
        input=stdin.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, b""), result.stderr.decode()


def _compose_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **sources: str) -> None:
    """Make ``compose_source`` read modules from ``tmp_path``, with these sources."""
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(compose, "INSIDE", tmp_path)


def test_compose_drops_only_imports_of_the_modules_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compose_from(
        tmp_path,
        monkeypatch,
        a='from __future__ import annotations\nA = 1\nif __name__ == "__main__":\n    A = 2\n',
        b=(
            "from __future__ import annotations\n"
            "import os\n"
            "from taskgym.inside.a import (\n    A,\n)\n"
            "B = A + 1\n"
            'if __name__ == "__main__":\n    print(B)\n'
        ),
    )
    program = compose_source("a", "b")
    assert "taskgym" not in program and "A = 2" not in program
    assert program.count("from __future__ import annotations") == 1
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout == "2\n"


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("from taskgym.core import Task\n", "only a top-level `from taskgym.inside"),
        ("from taskgym.inside.c import C\n", "not composed before b"),
        ("import taskgym.inside.a\n", "only a top-level"),
        ("from .a import A\n", "only a top-level"),
        ("from taskgym.inside.a import A as AA\n", "only a top-level"),
        ("def f():\n    from taskgym.inside.a import A\n", "only a top-level"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import taskgym\n", "b.py:3"),
        ("A = 3\n", "'A' is defined in both a and b"),
    ],
)
def test_compose_refuses_what_would_fail_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, why: str
) -> None:
    _compose_from(tmp_path, monkeypatch, a="A = 1\n", b=source, c="C = 1\n")
    with pytest.raises(ComposeError, match=re.escape(why)):
        compose_source("a", "b", "c")


def test_compose_refuses_a_sibling_composed_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compose_from(tmp_path, monkeypatch, a="from taskgym.inside.b import B\n", b="B = 1\n")
    with pytest.raises(ComposeError, match=r"a\.py:1: imports taskgym\.inside\.b, which is not"):
        compose_source("a", "b")
    assert "B = 1" in compose_source("b", "a")
