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
import os
import sys
import threading
import types
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.errors import ConfigError, UnknownNameError

__all__ = [
    "EnvInfo",
    "env_info",
    "import_tasks",
    "is_registered",
    "load_task_plugins",
    "register_task",
    "registered_ids",
]

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
    load_task_plugins()
    return sorted(
        env_id
        for env_id, info in _ENVS.items()
        if (family is None or info.family == family) and not (self_contained and info.requires)
    )


def is_registered(env_id: str) -> bool:
    """Whether ``env_id`` is a registered taskgym env, once the task plugins are loaded
    if it is not one already."""
    if env_id not in _ENVS:
        load_task_plugins()
    return env_id in _ENVS


def env_info(env_id: str) -> EnvInfo:
    if not is_registered(env_id):
        raise UnknownNameError("env", env_id, _ENVS)
    return _ENVS[env_id]


PLUGIN_GROUP = "taskgym.tasks"
"""The entry-point group of packages that ship tasks: each entry point names a module
(``mypkg.tasks``) or a callable (``mypkg.tasks:register``) that registers envs with
:func:`register_task` when imported or called."""

_plugins_loaded = False
_plugins_lock = threading.RLock()


def load_task_plugins() -> list[str]:
    """Import (or call) every entry point of group ``taskgym.tasks`` once; returns the
    names of the plugins that failed. Not done at ``import taskgym`` (its import time is
    a goal) but where env ids are resolved: :func:`registered_ids`, :func:`env_info` of
    an unknown id, ``make_task_env``. A plugin that fails is a warning naming its
    distribution and the error, and never stops the others."""
    global _plugins_loaded  # noqa: PLW0603 - once a process
    # Another thread waits until the plugins are in (threads of a pool making envs); the
    # loading thread itself passes, as a plugin may call registered_ids().
    with _plugins_lock:
        if _plugins_loaded:
            return []
        _plugins_loaded = True
        return _load_plugins()


def _load_plugins() -> list[str]:
    return _load_entry_points() + _import_from_environment()


def _load_entry_points() -> list[str]:
    from importlib.metadata import entry_points  # noqa: PLC0415 - only when needed

    failed = []
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = entry.load()
            if entry.attr is not None and callable(loaded):
                loaded()
        except Exception as e:  # one broken plugin must not stop the others
            failed.append(entry.name)
            dist = entry.dist.name if entry.dist is not None else "an unknown distribution"
            warnings.warn(
                f"taskgym: the task plugin {entry.name!r} ({entry.value}) of {dist} failed "
                f"to load, so its envs are not registered: {type(e).__name__}: {e}",
                RuntimeWarning,
                stacklevel=4,
            )
    return failed


def _import_from_environment() -> list[str]:
    failed = []
    for name in filter(None, os.environ.get(IMPORT_VARIABLE, "").split(os.pathsep)):
        try:
            import_tasks(name)
        except Exception as e:  # as a broken plugin: the others still load
            failed.append(name)
            warnings.warn(
                f"taskgym: {IMPORT_VARIABLE} names {name!r}, which failed to import, so its "
                f"envs are not registered: {type(e).__name__}: {e}",
                RuntimeWarning,
                stacklevel=4,
            )
    return failed


IMPORT_VARIABLE = "TASKGYM_IMPORT"
"""Modules and scripts (``os.pathsep``-separated) that :func:`load_task_plugins` imports
too: ``--import`` sets it, so that the worker processes of a run find the same envs."""

_imported: set[str] = set()


def import_tasks(name: str) -> None:
    """Import ``name``, a module (``my_tasks``, ``mypkg.tasks``) or a script's path
    (``path/to/tasks.py``), for the envs it registers (``--import``). The current
    directory is searched as ``python -m`` does; a name that cannot be found is a
    ConfigError saying what is accepted."""
    import importlib  # noqa: PLC0415

    script = name.endswith(".py") or os.sep in name or "/" in name
    key = os.path.abspath(name) if script else name
    if key in _imported:  # a script run twice would register its envs twice
        return
    if script:
        _run_script(name, key)
        _imported.add(key)
        return
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
            raise  # a module the imported one needs: its own traceback says which
        raise ConfigError(
            f"--import {name}: no module {e.name!r} here (install its package, put it on "
            "PYTHONPATH, or give a script's path ending in .py)"
        ) from e
    _imported.add(name)


def _run_script(name: str, path: str) -> None:
    """Import the script at ``path`` (``--import name``) as a module of its file's name."""
    import importlib.util  # noqa: PLC0415

    if not os.path.isfile(path):
        raise ConfigError(f"--import {name}: no such script (a module name or a .py path)")
    module_name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"--import {name}: not a Python script")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # as an import would: dataclasses look it up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise


# Not a task: a gymnasium env that plays a server of taskgym's envs (taskgym serve), kept
# out of `taskgym list` and `run`'s selection (taskgym.serving.remote; the openenv extra).
_gym_register(id=f"{NAMESPACE}/Remote-v0", entry_point="taskgym.serving.remote:RemoteEnv")
