"""Sandboxes: where untrusted programs run, behind one interface.

Backends are chosen by name (``sandbox="local"``) so that env registrations stay JSON.
Each name maps to a ``"module:Class"`` string, imported only when first used, so that
``import taskgym`` never pulls in a backend's dependencies.

=========  ===========================================================================
``auto``   the strongest backend that works on this machine (bwrap, else local)
``bwrap``  bubblewrap namespaces: no network, read-only system, private /tmp and pids
``docker`` a container of an image (taskgym[docker] extra, a Docker engine, an image)
``local``  child process with rlimits, private work dir, no namespaces (trusted code)
``fake``   scripted results, nothing runs: for unit tests of logic above the sandbox
=========  ===========================================================================
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from taskgym.errors import ConfigError, SandboxUnavailableError, UnknownNameError
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox, normalize_relative_path
from taskgym.sandboxes.shell import ShellResult, ShellSession

__all__ = [
    "ExecResult",
    "Limits",
    "Sandbox",
    "SandboxFactory",
    "ShellResult",
    "ShellSession",
    "check_sandbox_options",
    "make_sandbox",
    "normalize_relative_path",
    "register_sandbox",
    "resolve_sandbox_name",
    "sandbox_names",
    "unavailable_reason",
]

SandboxFactory = Callable[..., Sandbox]

_BACKENDS: dict[str, str | SandboxFactory] = {
    "bwrap": "taskgym.sandboxes.bwrap:BwrapSandbox",
    "docker": "taskgym.sandboxes.docker:DockerSandbox",
    "local": "taskgym.sandboxes.local:LocalSandbox",
    "fake": "taskgym.sandboxes.fake:FakeSandbox",
}
# Backends that may not work on every machine: a function that returns None when the
# backend works here, or the reason it does not (and how to fix it).
_PROBES: dict[str, str] = {
    "bwrap": "taskgym.sandboxes.bwrap:bwrap_unavailable_reason",
    "docker": "taskgym.sandboxes.docker:docker_unavailable_reason",
}
# Tried in order by "auto"; stronger isolation first.
_AUTO_ORDER = ("bwrap", "local")
_logger = logging.getLogger("taskgym")
_warned_fallback = False


def register_sandbox(name: str, factory: str | SandboxFactory) -> None:
    """Register a backend under ``name``: a ``"module:Class"`` string or a callable that
    takes keyword options and returns a :class:`Sandbox`."""
    if not isinstance(name, str) or not name or name == "auto":
        raise ValueError(f"a sandbox name must be a non-empty str other than 'auto', got {name!r}")
    _BACKENDS[name] = factory


def sandbox_names() -> list[str]:
    """Every name ``make_sandbox`` accepts, ``auto`` included."""
    return ["auto", *sorted(_BACKENDS)]


def resolve_sandbox_name(name: str) -> str:
    """The backend ``name`` stands for: ``auto`` becomes the first backend of
    bwrap, local that works here (logging a warning, once, when it is not bwrap)."""
    if name != "auto":
        if name not in _BACKENDS:
            raise UnknownNameError("sandbox", name, sandbox_names())
        return name
    global _warned_fallback  # noqa: PLW0603 - warn once per process, not per env
    reasons: list[str] = []
    for candidate in _AUTO_ORDER:
        reason = unavailable_reason(candidate)
        if reason is None:
            if reasons and not _warned_fallback:
                _warned_fallback = True
                _logger.warning(
                    "taskgym: sandbox 'auto' falls back to %r, which does not isolate "
                    "programs from the host: %s",
                    candidate,
                    "; ".join(reasons),
                )
            return candidate
        reasons.append(f"{candidate}: {reason}")
    raise SandboxUnavailableError("no sandbox backend works here: " + "; ".join(reasons))


def unavailable_reason(name: str) -> str | None:
    """None if backend ``name`` can run on this machine, else why not (cached)."""
    probe = _PROBES.get(name)
    if probe is None:
        return None
    module, _, attr = probe.partition(":")
    result: str | None = getattr(importlib.import_module(module), attr)()
    return result


def make_sandbox(name: str = "auto", **options: Any) -> Sandbox:
    """A new sandbox of backend ``name``; ``options`` go to the backend's constructor.

    Raises UnknownNameError (listing the known names) for an unknown name.
    """
    if not isinstance(name, str):
        raise UnknownNameError("sandbox", name, sandbox_names())
    return _factory(resolve_sandbox_name(name))(**options)


def check_sandbox_options(name: str, options: dict[str, Any]) -> None:
    """Raise ConfigError now if backend ``name`` would not accept ``options``, so that a
    typo fails when the env is made rather than at its first reset."""
    factory = _factory(resolve_sandbox_name(name))
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some callables have no signature to read
        return
    try:
        signature.bind(**options)
    except TypeError as e:
        accepted = [p for p in signature.parameters if p != "self"]
        raise ConfigError(
            f"bad sandbox_options for the {name} sandbox: {e}; it accepts {accepted}"
        ) from e


def _factory(backend: str) -> SandboxFactory:
    factory = _BACKENDS[backend]
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        assert callable(factory)
    return factory
