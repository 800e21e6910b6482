"""Collection on a machine without every extra: a module that imports an optional
dependency which is not installed (a test file, or a package module collected for its
doctests) is skipped, naming the extra to install, instead of failing the whole run;
where TASKGYM_REQUIRE_BACKENDS names that extra (CI), it fails as before.

It sits at the repository's root because the package's doctests are collected from
``taskgym/``, which ``tests/conftest.py`` does not reach.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import pytest

# The top-level module an import names, and the extra that brings it.
OPTIONAL_MODULES = {
    "docker": "docker",
    "sympy": "sympy",
    "ray": "ray",
    "datasets": "datasets",
    "pyarrow": "datasets",
    "torch": "demo",
    "matplotlib": "demo",
    "trl": "trl",
    "transformers": "trl",
    "skyrl_gym": "skyrl",
    "reasoning_gym": "reasoning-gym",
    "openenv": "openenv",
    "pydantic": "openenv",
    "fastapi": "openenv",
    "uvicorn": "openenv",
    "verifiers": "verifiers",
    "harbor": "harbor",
}
_REQUIRED = set(filter(None, os.environ.get("TASKGYM_REQUIRE_BACKENDS", "").split(",")))


def missing_extra(error: BaseException | None) -> tuple[str, BaseException] | None:
    """The extra whose absence ``error`` (or an exception it was raised from) reports,
    and the exception that says so; None when it is some other failure."""
    while error is not None:
        if isinstance(error, ModuleNotFoundError) and error.name:
            extra = OPTIONAL_MODULES.get(error.name.partition(".")[0])
            return None if extra is None else (extra, error)
        extra = getattr(error, "extra", None)  # taskgym's DependencyNotInstalledError
        if isinstance(error, ImportError) and isinstance(extra, str):
            return extra, error
        error = error.__cause__ or error.__context__
    return None


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Wrap the collection of each module so that a missing extra skips it."""
    if isinstance(collector, pytest.File):
        collect = collector.collect
        collector.collect = lambda: _skipping_missing_extras(collect)  # type: ignore[method-assign]


def _skipping_missing_extras(
    collect: Callable[[], Iterable[pytest.Item | pytest.Collector]],
) -> list[pytest.Item | pytest.Collector]:
    try:
        return list(collect())
    except Exception as e:
        found = missing_extra(e)
        if found is None or found[0] in _REQUIRED:
            raise
        extra, why = found
        pytest.skip(
            f"the {extra} extra is not installed ({why}): pip install 'taskgym[{extra}]'; "
            "`taskgym doctor` lists what works here",
            allow_module_level=True,
        )
