"""The exceptions taskgym raises.

Agent mistakes (a badly formatted answer, a failing test, a program that times out or
crashes) are never exceptions: they are data in the :class:`~taskgym.core.Verdict`.
Everything below is a failure of the framework, the configuration or the caller, and
each message says what to do about it::

    TaskgymError
    ├── ConfigError (ValueError)          a bad option: fix the call or the registration
    │   ├── UnknownNameError              no reward / sandbox / env / agent of that name
    │   └── UnknownTaskIdError            reset(options={"task_id": ...}) names no problem
    ├── ActionTypeError (TypeError)       step() got something that is not a str
    ├── EpisodeStateError (RuntimeError)  step() after the episode ended, or after close()
    ├── CheckerError (RuntimeError)       a task's checker crashed: a bug, never a wrong answer
    ├── SandboxError (RuntimeError)       a sandbox backend failed
    │   ├── SandboxUnavailableError       the backend cannot run on this machine
    │   ├── SandboxClosedError            the sandbox was used after close()
    │   └── PoolTimeoutError              every sandbox of a pool stayed leased too long
    ├── AgentError (RuntimeError)         a model endpoint refused or kept failing
    ├── DependencyNotInstalledError (ImportError)  an optional extra is missing
    └── ConformanceError (AssertionError) taskgym.testing found a task that breaks the contract
"""

from __future__ import annotations

from collections.abc import Iterable


class TaskgymError(Exception):
    """Base class of every exception taskgym raises on purpose."""


class ConfigError(TaskgymError, ValueError):
    """An option has a value taskgym cannot use; the message says which values can."""


class UnknownNameError(ConfigError):
    """A name (of a reward, sandbox backend, env, agent or executor) is not registered."""

    def __init__(self, kind: str, name: object, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        listing = ", ".join(repr(k) for k in self.known) or "(none registered)"
        super().__init__(f"unknown {kind} {name!r}; choose one of: {listing}")


class UnknownTaskIdError(ConfigError):
    """``reset(options={"task_id": ...})`` named a problem the task does not have."""


class ActionTypeError(TaskgymError, TypeError):
    """``step()`` was given an action that is not a ``str``."""


class EpisodeStateError(TaskgymError, RuntimeError):
    """The env was used out of order: ``step()`` after the episode ended or after close."""


class CheckerError(TaskgymError, RuntimeError):
    """A task's checker failed. This is a bug in the task, never a wrong answer: it raises
    rather than return a zero reward, so that a broken grader cannot pass for a weak agent."""


class SandboxError(TaskgymError, RuntimeError):
    """A sandbox backend failed to do what it was asked (not the program inside it)."""


class SandboxUnavailableError(SandboxError):
    """A sandbox backend cannot run on this machine; the message says how to install it."""


class SandboxClosedError(SandboxError):
    """A sandbox was used after ``close()``."""


class PoolTimeoutError(SandboxError):
    """No sandbox of a pool came free in time: make the pool larger or lease for less."""


class AgentError(TaskgymError, RuntimeError):
    """An agent could not get an action: its model endpoint refused the request (the
    message has the status and the server's words) or failed past its retries."""


class DependencyNotInstalledError(TaskgymError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is not installed; install it with: pip install 'taskgym[{extra}]'"
        )


class ConformanceError(TaskgymError, AssertionError):
    """A registered env breaks the taskgym contract (raised by :mod:`taskgym.testing`)."""
