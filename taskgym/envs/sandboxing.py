"""Which sandbox an env gives its task, read from the task's
:class:`~taskgym.core.Execution`: the backend chosen among those the task can run in,
the options it is made with, a problem's sandbox of its own, how a sandbox is kept warm
between episodes, and the stand-in given to tasks that run nothing. When a sandbox is
made, reset or closed is :class:`~taskgym.envs.env.TaskEnv`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from taskgym.core import Task
from taskgym.errors import ConfigError, SandboxError, SandboxUnavailableError
from taskgym.sandboxes import (
    ExecResult,
    Limits,
    Sandbox,
    make_sandbox,
    resolve_auto,
    resolve_sandbox_name,
)

if TYPE_CHECKING:
    from taskgym.sandboxes.pool import SandboxPool

__all__ = [
    "NO_SANDBOX",
    "choose_backend",
    "kept_warm",
    "pool_backend",
    "problem_sandbox",
    "sandbox_options_for",
]


def choose_backend(task: Task, requested: str) -> str:
    """The backend for ``task``: ``requested``, which must be one the task can run in.

    ``"auto"`` picks the first of those that works here
    (:func:`~taskgym.sandboxes.resolve_auto`); for a task whose tests must stay hidden
    (:attr:`~taskgym.core.Execution.hides_tests`) never ``local``, which hides no host
    file: it raises SandboxUnavailableError instead, unless ``local`` is named.
    """
    execution = task.execution
    allowed = execution.sandbox_backends if execution.needs_sandbox else ()
    if requested == "auto":
        hidden_tests_of = type(task).__name__ if execution.hides_tests else ""
        return resolve_auto(allowed, hidden_tests_of=hidden_tests_of, warn=execution.needs_sandbox)
    backend = resolve_sandbox_name(requested)
    if allowed and backend not in allowed:
        raise ConfigError(
            f"{type(task).__name__} runs only in the {list(allowed)} sandbox(es), not {backend!r}"
        )
    return backend


def pool_backend(task: Task, pool: SandboxPool) -> str:
    """The backend for ``task`` leasing from ``pool``: chosen from the name the pool was
    made with, as :func:`choose_backend` would (a pool made with ``"auto"`` gives no
    ``local`` sandbox to a task with hidden tests), and the pool's own."""
    backend = choose_backend(task, pool.requested)
    if backend != pool.backend:
        raise ConfigError(
            f"{type(task).__name__} runs in the {backend!r} sandbox, but the pool holds "
            f"{pool.backend!r} sandboxes"
        )
    return backend


def sandbox_options_for(task: Task, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The task's own sandbox options overridden by the user's ``options`` (JSON: their
    ``limits`` may be a mapping, made a :class:`Limits` here)."""
    own = task.sandbox_options()
    given = dict(options or {})
    if isinstance(given.get("limits"), Mapping):
        try:
            given["limits"] = Limits(**given["limits"])
        except TypeError as e:
            raise ConfigError(f"bad sandbox limits: {e}") from e
    return {**own, **given}


def problem_sandbox(problem_id: str, backend: str, options: dict[str, Any]) -> Sandbox:
    """A sandbox for the one problem that needs ``backend`` and ``options`` (see
    :meth:`Task.problem_sandbox <taskgym.core.Task.problem_sandbox>`)."""
    try:
        return make_sandbox(backend, **options)
    except SandboxUnavailableError as e:
        raise SandboxUnavailableError(
            f"problem {problem_id!r} needs the {backend} sandbox with {options}: {e}"
        ) from e


def kept_warm(task: Task, sandbox: Sandbox) -> bool:
    """Whether ``sandbox`` was made as new for the next episode with the task's warm
    processes still running: by the task's own :meth:`~taskgym.core.Task.keep_warm`,
    or, for a task that runs only in the zygote, by its zygotes' scrub. False: the
    caller resets it."""
    if task.keep_warm(sandbox):
        return True
    if not task.execution.runs_only_in_zygote:
        return False
    # The zygote's client is loaded only for the tasks that use it.
    from taskgym.sandboxes.zygote import scrub_for_next_episode  # noqa: PLC0415

    return scrub_for_next_episode(sandbox)


class _NoSandbox(Sandbox):
    """Given to tasks that declared no sandbox: any use is a task bug."""

    backend = "none"

    def _fail(self) -> SandboxError:
        return SandboxError(
            "this task declared no sandbox but used one; declare "
            "execution = Execution(needs_sandbox=True) on the Task class"
        )

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        raise self._fail()

    def _write(self, path: str, data: bytes, mode: int) -> None:
        raise self._fail()

    def _read(self, path: str, max_bytes: int) -> bytes:
        raise self._fail()

    def _close(self) -> None:
        pass


NO_SANDBOX: Sandbox = _NoSandbox()
"""The sandbox handed to tasks that run nothing."""
