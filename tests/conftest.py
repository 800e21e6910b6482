"""Shared fixtures: real sandbox backends, skipped where they cannot run, except those
named in TASKGYM_REQUIRE_BACKENDS (CI sets it), whose absence fails the run instead.

Every skip for a missing component says what to install, and points to ``taskgym
doctor``. Where bubblewrap is missing (and not required), the suite's tasks with hidden
tests run in the local sandbox, as ``TASKGYM_ALLOW_LOCAL=1`` lets them: the suite is
trusted code, and its tests of the logic above the sandbox run on such a machine too
(the header of the run says so)."""

from __future__ import annotations

import functools
import importlib
import os
import shutil
from collections.abc import Iterator
from typing import NoReturn

import pytest

from taskgym.sandboxes import (
    ALLOW_LOCAL,
    SANDBOXES,
    Sandbox,
    make_sandbox,
    register_sandbox,
    resolve_sandbox_name,
    unavailable_reason,
)

REAL_BACKENDS = ("local", "bwrap", "docker")
REQUIRED_BACKENDS = {
    name for name in os.environ.get("TASKGYM_REQUIRE_BACKENDS", "").split(",") if name
}
DOCTOR = "; `taskgym doctor` lists what works here"
# Set for this process and the ones it starts (CLI runs, spawned workers).
LOCAL_FOR_HIDDEN_TESTS = (
    "bwrap" not in REQUIRED_BACKENDS and unavailable_reason("bwrap") is not None
)
if LOCAL_FOR_HIDDEN_TESTS:
    os.environ[ALLOW_LOCAL] = "1"


def pytest_report_header() -> list[str]:
    if not LOCAL_FOR_HIDDEN_TESTS:
        return []
    return [
        f"taskgym: no bubblewrap here, so tasks with hidden tests run in the local sandbox "
        f"({ALLOW_LOCAL}=1): apt-get install bubblewrap{DOCTOR}"
    ]


def missing(component: str, message: str) -> NoReturn:
    """Skip the test for a missing ``component`` (``message`` says what to install), or
    fail it where TASKGYM_REQUIRE_BACKENDS names the component."""
    if component in REQUIRED_BACKENDS:
        pytest.fail(f"{component} is required here (TASKGYM_REQUIRE_BACKENDS) but: {message}")
    pytest.skip(message + DOCTOR, allow_module_level=True)


def require_backend(name: str) -> None:
    reason = unavailable_reason(name)
    if reason is not None:
        missing(name, f"the {name} sandbox is unavailable: {reason}")


def require_coq() -> None:
    """Proof-mode tests need Coq's coqc (where the sandboxes find it: /usr/bin): skip,
    or fail where CI requires it (``coq`` in TASKGYM_REQUIRE_BACKENDS)."""
    if shutil.which("coqc") is None:
        missing("coq", "coqc is not installed (apt-get install coq)")


def require_lean() -> None:
    """Lean tests need a Lean 4 toolchain, which none of this project's machines can
    install (no registry carries one): they skip, saying so, where ``lean`` is absent."""
    if shutil.which("lean") is None:
        pytest.skip("no Lean 4 toolchain on PATH (none can be installed on these machines)")


def require_module(module: str, extra: str, component: str | None = None) -> None:
    """Skip (or fail where ``component``, by default ``extra``, is required) unless
    ``module`` imports: it comes with ``pip install 'taskgym[extra]'``."""
    try:
        importlib.import_module(module)
    except ImportError as e:
        missing(
            component or extra, f"{module} is not installed ({e}): pip install 'taskgym[{extra}]'"
        )


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """bwrap's probe says it is missing, as on a machine without bubblewrap: the backend
    registered again, through the public registry, with a probe that fails; and without
    the suite's own TASKGYM_ALLOW_LOCAL."""
    monkeypatch.delenv(ALLOW_LOCAL, raising=False)
    factory = "taskgym.sandboxes.bwrap:BwrapSandbox"
    probe = SANDBOXES.metadata("bwrap")["probe"]
    register_sandbox("bwrap", factory, probe=lambda: "bubblewrap is not installed (test)")
    try:
        yield
    finally:
        register_sandbox("bwrap", factory, probe=probe)


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
    missing(
        backend,
        f"the {backend} sandbox's python3 has no pytest ({reason}); project tasks need it: "
        "apt-get install python3-pytest, or taskgym images build for docker",
    )


@pytest.fixture(params=REAL_BACKENDS)
def real_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh sandbox of each real backend in turn."""
    require_backend(request.param)
    box = make_sandbox(request.param)
    yield box
    box.close()
