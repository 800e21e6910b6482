"""Sandboxes: where untrusted programs run, behind one interface.

Backends are chosen by name (``sandbox="local"``) so that env registrations stay JSON.
Each name maps, in :data:`SANDBOXES`, to a ``"module:Class"`` string imported only when
first used, so that ``import taskgym`` never pulls in a backend's dependencies;
:func:`register_sandbox` adds one of your own.

=========  ===========================================================================
``auto``   the strongest backend that works on this machine (bwrap, else local)
``bwrap``  bubblewrap namespaces: no network, read-only system, private /tmp and pids
``docker`` a container of an image (taskgym[docker] extra, a Docker engine, an image)
``local``  child process with rlimits, private work dir, no namespaces (trusted code)
``fake``   scripted results, nothing runs: for unit tests of logic above the sandbox
=========  ===========================================================================
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from taskgym.errors import ConfigError, SandboxUnavailableError, UnknownNameError
from taskgym.plugins import Registry, load
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox, normalize_relative_path
from taskgym.sandboxes.shell import ShellResult, ShellSession

__all__ = [
    "SANDBOXES",
    "ExecResult",
    "Limits",
    "Sandbox",
    "SandboxFactory",
    "SandboxProbe",
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
# A backend's probe: None when the backend works on this machine, else the reason it
# does not (and how to fix it). Backends without one work everywhere.
SandboxProbe = Callable[[], str | None]

SANDBOXES: Registry[SandboxFactory] = Registry("sandbox", reserved=["auto"])
# Tried in order by "auto"; stronger isolation first.
_AUTO_ORDER = ("bwrap", "local")
_logger = logging.getLogger("taskgym")
_warned_fallback = False


def register_sandbox(
    name: str, factory: str | SandboxFactory, *, probe: str | SandboxProbe | None = None
) -> None:
    """Register a backend under ``name``: a ``"module:Class"`` string or a callable that
    takes keyword options and returns a :class:`Sandbox`. ``probe`` (a callable or its
    ``"module:function"``) says why the backend cannot run here, or None when it can."""
    SANDBOXES.register(name, factory, probe=probe)


register_sandbox(
    "bwrap",
    "taskgym.sandboxes.bwrap:BwrapSandbox",
    probe="taskgym.sandboxes.bwrap:bwrap_unavailable_reason",
)
register_sandbox(
    "docker",
    "taskgym.sandboxes.docker:DockerSandbox",
    probe="taskgym.sandboxes.docker:docker_unavailable_reason",
)
register_sandbox("local", "taskgym.sandboxes.local:LocalSandbox")
register_sandbox("fake", "taskgym.sandboxes.fake:FakeSandbox")


def sandbox_names() -> list[str]:
    """Every name ``make_sandbox`` accepts, ``auto`` included."""
    return ["auto", *SANDBOXES.names()]


def resolve_sandbox_name(name: str) -> str:
    """The backend ``name`` stands for: ``auto`` becomes the first backend of
    bwrap, local that works here (logging a warning, once, when it is not bwrap)."""
    if name != "auto":
        if name not in SANDBOXES:
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
    probe = SANDBOXES.metadata(name)["probe"] if name in SANDBOXES else None
    if probe is None:
        return None
    if isinstance(probe, str):
        probe = load(probe, "sandbox probe", name)
    result: str | None = probe()
    return result


def make_sandbox(name: str = "auto", **options: Any) -> Sandbox:
    """A new sandbox of backend ``name``; ``options`` go to the backend's constructor.

    Raises UnknownNameError (listing the known names) for an unknown name.
    """
    if not isinstance(name, str):
        raise UnknownNameError("sandbox", name, sandbox_names())
    return SANDBOXES.get(resolve_sandbox_name(name))(**options)


def check_sandbox_options(name: str, options: dict[str, Any]) -> None:
    """Raise ConfigError now if backend ``name`` would not accept ``options``, so that a
    typo fails when the env is made rather than at its first reset."""
    factory = SANDBOXES.get(resolve_sandbox_name(name))
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
