"""Shared fixtures: real sandbox backends, skipped where they cannot run, except those
named in TASKGYM_REQUIRE_BACKENDS (CI sets it), whose absence fails the run instead."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from taskgym.sandboxes import Sandbox, make_sandbox, unavailable_reason

REAL_BACKENDS = ("local", "bwrap", "docker")
REQUIRED_BACKENDS = {
    name for name in os.environ.get("TASKGYM_REQUIRE_BACKENDS", "").split(",") if name
}


def require_backend(name: str) -> None:
    reason = unavailable_reason(name)
    if reason is None:
        return
    if name in REQUIRED_BACKENDS:
        pytest.fail(f"the {name} sandbox is required here but unavailable: {reason}")
    pytest.skip(f"the {name} sandbox is unavailable: {reason}")


@pytest.fixture(params=REAL_BACKENDS)
def real_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh sandbox of each real backend in turn."""
    require_backend(request.param)
    box = make_sandbox(request.param)
    yield box
    box.close()
