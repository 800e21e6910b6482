"""Shared fixtures: real sandbox backends, skipped where they cannot run, except those
named in TASKGYM_REQUIRE_BACKENDS (CI sets it), whose absence fails the run instead."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator

import pytest

from taskgym.sandboxes import Sandbox, make_sandbox, resolve_sandbox_name, unavailable_reason

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


def require_coq() -> None:
    """Proof-mode tests need Coq's coqc (where the sandboxes find it: /usr/bin): skip,
    or fail where CI requires it (``coq`` in TASKGYM_REQUIRE_BACKENDS)."""
    if shutil.which("coqc") is not None:
        return
    if "coq" in REQUIRED_BACKENDS:
        pytest.fail("coqc is required here (TASKGYM_REQUIRE_BACKENDS) but not installed")
    pytest.skip("coqc is not installed (apt-get install coq)")


def require_lean() -> None:
    """Lean tests need a Lean 4 toolchain, which none of this project's machines can
    install (no registry carries one): they skip, saying so, where ``lean`` is absent."""
    if shutil.which("lean") is None:
        pytest.skip("no Lean 4 toolchain on PATH (none can be installed on these machines)")


@pytest.fixture(scope="module")
def coq_box() -> Iterator[Sandbox]:
    """A bwrap sandbox for Coq checks, shared by a module's tests (and its warm coqtop)."""
    require_coq()
    require_backend("bwrap")
    with make_sandbox("bwrap") as sandbox:
        yield sandbox


@functools.cache
def _pytest_missing_in(backend: str) -> str | None:
    with make_sandbox(backend) as box:
        result = box.run(["python3", "-c", "import pytest"])
    return None if result.ok else result.err.strip().splitlines()[-1:][0]


def require_pytest_in(name: str = "auto") -> None:
    """Project tasks run pytest inside the sandbox: skip (or, where the backend is
    required, fail) when the backend's python3 cannot import it."""
    backend = resolve_sandbox_name(name)
    require_backend(backend)
    reason = _pytest_missing_in(backend)
    if reason is None:
        return
    message = (
        f"the {backend} sandbox's python3 has no pytest ({reason}); project tasks need it: "
        "apt-get install python3-pytest, or taskgym images build for docker"
    )
    if backend in REQUIRED_BACKENDS:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=REAL_BACKENDS)
def real_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh sandbox of each real backend in turn."""
    require_backend(request.param)
    box = make_sandbox(request.param)
    yield box
    box.close()
