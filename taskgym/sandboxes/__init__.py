"""Sandboxes: where untrusted programs run, behind one interface.

Backends are chosen by name (``sandbox="local"``) so that env registrations stay JSON.
Each name maps, in :data:`SANDBOXES`, to a ``"module:Class"`` string imported only when
first used, so that ``import taskgym`` never pulls in a backend's dependencies;
:func:`register_sandbox` adds one of your own.

=========  ===========================================================================
``auto``   the strongest backend that works on this machine (bwrap, else local; never
           local for a task with hidden tests, see :func:`resolve_auto`)
``bwrap``  bubblewrap namespaces: no network, read-only system, private /tmp and pids
``docker`` a container of an image (taskgym[docker] extra, a Docker engine, an image)
``local``  child process with rlimits, private work dir, no namespaces (trusted code)
``fake``   scripted results, nothing runs: for unit tests of logic above the sandbox
=========  ===========================================================================
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from taskgym.errors import ConfigError, SandboxUnavailableError, UnknownNameError
from taskgym.plugins import Registry, load
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox, normalize_relative_path
from taskgym.sandboxes.shell import ShellResult, ShellSession

__all__ = [
    "ALLOW_LOCAL",
    "AUTO_ORDER",
    "DOCTOR_HINT",
    "HIDES_NOTHING",
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
    "resolve_auto",
    "resolve_sandbox_name",
    "sandbox_names",
    "unavailable_reason",
]

SandboxFactory = Callable[..., Sandbox]
# A backend's probe: None when the backend works on this machine, else the reason it
# does not (and how to fix it). Backends without one work everywhere.
SandboxProbe = Callable[[], str | None]

SANDBOXES: Registry[SandboxFactory] = Registry("sandbox", reserved=["auto"])
AUTO_ORDER = ("bwrap", "local")
"""What ``auto`` tries, in order: stronger isolation first. Docker is left out: it needs
images built and starts slower; name it to use it."""
HIDES_NOTHING = frozenset({"local", "fake"})
"""Backends whose programs can read any host file their uid may: ``auto`` never picks
them for a task with hidden tests (:func:`resolve_auto`)."""
ALLOW_LOCAL = "TASKGYM_ALLOW_LOCAL"
"""The environment variable that, set to 1, lets ``auto`` pick a backend of
:data:`HIDES_NOTHING` for tasks with hidden tests too, as naming it does: for a process
whose whole machine is the sandbox (a throw-away container or VM) and for trusted
agents."""
DOCTOR_HINT = " (`taskgym doctor` lists what works here and what to install)"
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
    return resolve_auto()


def resolve_auto(
    allowed: Sequence[str] = (), *, hidden_tests_of: str = "", warn: bool = True
) -> str:
    """What ``auto`` picks: the first backend that works here of ``allowed`` (a task's
    :attr:`~taskgym.core.Execution.sandbox_backends`), or of :data:`AUTO_ORDER` when
    it is empty.

    ``hidden_tests_of`` names a task whose checks the agent must never read (its
    :attr:`~taskgym.core.Execution.hides_tests`): a backend that hides no host file
    (:data:`HIDES_NOTHING`) is then never picked, and where it is the only one that
    works, SandboxUnavailableError says what to install, and that naming it accepts
    the risk, as :data:`ALLOW_LOCAL` set to 1 does for a whole process. Otherwise
    falling back to one logs a warning, once (unless not ``warn``: for a task that runs
    nothing in it).
    """
    reasons: list[str] = []
    refused: list[str] = []
    refuse = bool(hidden_tests_of) and os.environ.get(ALLOW_LOCAL) != "1"
    for candidate in allowed or AUTO_ORDER:
        reason = unavailable_reason(candidate)
        if reason is not None:
            reasons.append(f"{candidate}: {reason}")
        elif refuse and candidate in HIDES_NOTHING:
            refused.append(candidate)
        else:
            if warn and candidate in HIDES_NOTHING and reasons:
                _warn_fallback(candidate, reasons)
            return candidate
    if refused:
        raise SandboxUnavailableError(_refusal(hidden_tests_of, refused[0], allowed, reasons))
    raise SandboxUnavailableError(
        f"no sandbox backend of {list(allowed or AUTO_ORDER)} works here: "
        f"{'; '.join(reasons)}{DOCTOR_HINT}"
    )


def _warn_fallback(candidate: str, reasons: list[str]) -> None:
    global _warned_fallback  # noqa: PLW0603 - warn once per process, not per env
    if not _warned_fallback:
        _warned_fallback = True
        _logger.warning(
            "taskgym: sandbox 'auto' falls back to %r, which does not isolate programs from "
            "the host: %s",
            candidate,
            "; ".join(reasons),
        )


def _refusal(task: str, fallback: str, allowed: Sequence[str], reasons: list[str]) -> str:
    """Why ``auto`` will not run ``task``'s hidden tests in ``fallback``, and the ways out."""
    ways = []
    if "bwrap" in (allowed or AUTO_ORDER):
        ways.append("install bubblewrap (Debian: apt-get install bubblewrap), which auto picks")
    if not allowed or "docker" in allowed:
        ways.append(
            "use sandbox='docker' (pip install 'taskgym[docker]', a Docker engine, "
            "taskgym images build)"
        )
    ways.append(
        f"pass sandbox={fallback!r} by name to accept that risk (trusted agents only), or "
        f"set {ALLOW_LOCAL}=1 to accept it for the whole process (where a container or VM "
        "is the isolation)"
    )
    return (
        f"{task} grades with tests the agent must never read, and sandbox 'auto' found only "
        f"{fallback!r} working here ({'; '.join(reasons)}), which lets the agent's programs "
        f"read the host's files, those tests included. To run it: {'; or '.join(ways)}."
        f"{DOCTOR_HINT}"
    )


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
