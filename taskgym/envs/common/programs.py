"""The programs that grading runs inside the sandbox, put together from the modules of
this package that run there (standard library only: :mod:`.harness`,
:mod:`.assert_tests`, :mod:`.project_inside`)."""

from __future__ import annotations

from pathlib import Path

from taskgym.sandboxes.wire import compose_source

__all__ = ["HARNESS_PATH", "in_sandbox_program"]

# The function harness, which runs alone as ``__main__`` (see :mod:`.harness`).
HARNESS_PATH = Path(__file__).with_name("harness.py")


def in_sandbox_program(entry: str, *extra: str) -> str:
    """One program for a zygote session: wire, the harness, the assert-style programs and
    ``extra`` modules of this package (by name), then a call of ``entry``."""
    here = Path(__file__).parent
    modules = (
        here.parent.parent / "sandboxes" / "wire.py",
        here / "harness.py",
        here / "assert_tests.py",
        *(here / f"{name}.py" for name in extra),
    )
    return compose_source(*modules) + f"\n{entry}()\n"
