"""The programs that grading runs inside the sandbox, put together from modules of
:mod:`taskgym.inside` (see :mod:`taskgym.sandboxes.compose`)."""

from __future__ import annotations

from taskgym.sandboxes.compose import compose_source

__all__ = ["HARNESS_SOURCE", "in_sandbox_program"]

# The function harness, which runs alone as ``__main__`` (see taskgym.inside.harness).
HARNESS_SOURCE = compose_source("values", "harness")


def in_sandbox_program(entry: str, module: str) -> str:
    """One program for a zygote session: what every such program uses (wire, values,
    session_program), then ``module`` of :mod:`taskgym.inside`, then a call of its
    ``entry``."""
    return compose_source("wire", "values", "session_program", module) + f"\n{entry}()\n"
