"""Registration: every taskgym env is ``TaskEnv`` plus JSON keyword arguments, put in
gymnasium's own registry under ``taskgym/<Name>-v<N>``.

``import taskgym`` does not import gymnasium (with numpy, about 100-130 ms of an import
here: bench/import_time_and_size.py). When gymnasium is already loaded, envs go into its
registry at once; otherwise they wait in a list, and a one-shot import hook adds them the
moment ``gymnasium.envs.registration`` has loaded, before ``gymnasium.make`` can run. So
``import taskgym`` then ``gymnasium.make("taskgym/...")`` works in either order, and a
program that only needs the CLI, the errors or ``registered_ids`` never pays for
gymnasium.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.errors import ConfigError, UnknownNameError

__all__ = ["EnvInfo", "env_info", "register_task", "registered_ids"]

NAMESPACE = "taskgym"
ENTRY_POINT = "taskgym.envs.env:TaskEnv"


@dataclass(frozen=True)
class EnvInfo:
    """What ``taskgym list`` shows of a registered env."""

    env_id: str
    family: str
    description: str
    requires: tuple[str, ...] = ()
    """Options that must be given to ``make`` (a data file's path, say)."""


_ENVS: dict[str, EnvInfo] = {}
_GYM_REGISTRATION = "gymnasium.envs.registration"
# gymnasium.register keyword arguments not yet given to gymnasium (it is not loaded).
_PENDING: list[dict[str, Any]] = []


def _gym_register(**spec: Any) -> None:
    module = sys.modules.get(_GYM_REGISTRATION)
    if module is not None and hasattr(module, "register"):
        module.register(**spec)
        return
    _PENDING.append(spec)
    if not any(isinstance(finder, _RegisterWhenGymnasiumLoads) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenGymnasiumLoads())


def _flush_pending(module: types.ModuleType) -> None:
    while _PENDING:
        module.register(**_PENDING.pop(0))


class _RegisterWhenGymnasiumLoads(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``gymnasium.envs.registration`` is imported, it wraps
    the real loader so the pending envs are registered right after the module runs, then
    takes itself off ``sys.meta_path``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _GYM_REGISTRATION:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:  # the finders that would have run after this one
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(fullname, path, target) if find_spec is not None else None
            if spec is not None:
                if isinstance(spec.loader, importlib.abc.Loader):
                    spec.loader = _ThenRegister(spec.loader)
                return spec  # type: ignore[no-any-return]
        return None


class _ThenRegister(importlib.abc.Loader):
    """A module loader that runs the original, then registers the pending envs; every
    other attribute (``get_source`` for tracebacks, say) is the original's."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        _flush_pending(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def register_task(
    name: str,
    task: str,
    *,
    family: str,
    description: str,
    version: int = 0,
    reward: str | dict[str, Any] = "binary",
    sandbox: str = "auto",
    requires: tuple[str, ...] = (),
    **options: Any,
) -> str:
    """Register ``task`` (a ``"module:Class"`` string) as ``taskgym/<name>-v<version>``.

    ``options`` are the env's and the task's keyword arguments; they must be JSON so the
    env's spec can be saved and rebuilt anywhere. ``requires`` names options only the
    user can give (a data file's path): such envs are left out of ``taskgym run``'s
    default selection. Returns the env id.

    Examples:
        >>> register_task("ArithmeticDemo", "taskgym.envs.math.arithmetic:ArithmeticTask",
        ...               family="math", description="demo", difficulty="easy")
        'taskgym/ArithmeticDemo-v0'
    """
    if ":" not in task:
        raise ConfigError(
            f"task must be a 'module:Class' string so import stays cheap, got {task!r}"
        )
    env_id = f"{NAMESPACE}/{name}-v{version}"
    kwargs = {"task": task, "reward": reward, "sandbox": sandbox, **options}
    try:
        json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"the options of {env_id} must be JSON values: {e}") from e
    _gym_register(id=env_id, entry_point=ENTRY_POINT, kwargs=kwargs)
    _ENVS[env_id] = EnvInfo(env_id, family, description, tuple(requires))
    return env_id


def registered_ids(family: str | None = None, *, self_contained: bool = False) -> list[str]:
    """The ids of every registered taskgym env (of one family, if given), sorted; with
    ``self_contained``, only those that need no option from the user."""
    return sorted(
        env_id
        for env_id, info in _ENVS.items()
        if (family is None or info.family == family) and not (self_contained and info.requires)
    )


def env_info(env_id: str) -> EnvInfo:
    if env_id not in _ENVS:
        raise UnknownNameError("env", env_id, _ENVS)
    return _ENVS[env_id]


# Not a task: a gymnasium env that plays a server of taskgym's envs (taskgym serve), kept
# out of `taskgym list` and `run`'s selection (taskgym.serving.remote; the openenv extra).
_gym_register(id=f"{NAMESPACE}/Remote-v0", entry_point="taskgym.serving.remote:RemoteEnv")
