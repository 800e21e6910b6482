"""Plugins chosen by name: one small registry type for rewards, sandbox backends, agents
and executors, and the one place in the package that imports a ``"module:attr"`` string.

A registry maps each name to a factory, or to the ``"module:attr"`` string of one, which
is imported only when the name is first looked up: registering costs no import, and a
backend's or an executor's dependencies load only when it is chosen.

Examples:
    >>> from taskgym.plugins import Registry
    >>> shapes: Registry[type] = Registry("shape")
    >>> shapes.register("ordered", "collections:OrderedDict")
    >>> shapes.get("ordered").__name__
    'OrderedDict'
    >>> shapes.get("round")
    Traceback (most recent call last):
    ...
    taskgym.errors.UnknownNameError: unknown shape 'round'; choose one of: 'ordered'
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from typing import Any, Generic, TypeVar

from taskgym.errors import ConfigError, TaskgymError, UnknownNameError

__all__ = ["Registry", "load"]

T = TypeVar("T")


def load(entry_point: str, kind: str, name: str | None = None) -> Any:
    """The object ``"module:attr"`` names, imported now; ``kind`` and ``name`` say in
    errors what it was for (``load("pkg.mod:MyAgent", "agent")``).

    A malformed string or a failed import raises ConfigError saying what to fix; an
    error of taskgym's own (a missing extra) passes through as it is.
    """
    module_name, _, attr = (
        entry_point.partition(":") if isinstance(entry_point, str) else ("", "", "")
    )
    if not (module_name and attr):
        raise ConfigError(f"{kind} entry points are written 'module:Class', got {entry_point!r}")
    shown = repr(entry_point) if name in (None, entry_point) else f"{name!r} ({entry_point})"
    try:
        return getattr(importlib.import_module(module_name), attr)
    except TaskgymError:
        raise
    except (ImportError, AttributeError) as e:
        raise ConfigError(
            f"cannot load {kind} {shown}: {e}; check that {module_name!r} is importable "
            f"where it runs (installed, on sys.path) and defines {attr!r}"
        ) from e


class Registry(Generic[T]):
    """Names of one ``kind`` (``"reward"``, ``"sandbox"``...) mapped to factories ``T``.

    Each entry may carry metadata (a sandbox backend's probe, say). Registering a name
    again replaces it. ``reserved`` names cannot be registered (``auto`` for sandboxes).
    With ``entry_points``, a name that is not registered but is a ``"module:attr"``
    string is loaded as one (agents: any class importable where the episode runs).
    """

    def __init__(
        self, kind: str, *, reserved: Collection[str] = (), entry_points: bool = False
    ) -> None:
        self.kind = kind
        self._reserved = frozenset(reserved)
        self._entry_points = entry_points
        self._factories: dict[str, T | str] = {}
        self._metadata: dict[str, dict[str, Any]] = {}

    def register(self, name: str, factory: T | str, **metadata: Any) -> None:
        """Make ``factory`` (or the ``"module:attr"`` string of one) available as ``name``."""
        if not isinstance(name, str) or not name or name in self._reserved:
            other_than = "".join(f" other than {r!r}" for r in sorted(self._reserved))
            raise ValueError(
                f"a {self.kind} name must be a non-empty str{other_than}, got {name!r}"
            )
        self._factories[name] = factory
        self._metadata[name] = metadata

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a test's clean-up, a plugin replaced)."""
        self._check(name)
        del self._factories[name], self._metadata[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def get(self, name: object) -> T:
        """The factory registered as ``name``, imported now if it was given as a string.

        Raises UnknownNameError listing the known names, or ConfigError when the import
        fails.
        """
        if self._entry_points and isinstance(name, str) and name not in self._factories:
            module_name, _, attr = name.partition(":")
            if module_name and attr:
                named: T = load(name, self.kind)
                return named
        key = self._check(name)
        entry = self._factories[key]
        if isinstance(entry, str):
            loaded: T = load(entry, self.kind, key)
            return loaded
        return entry

    def metadata(self, name: str) -> Mapping[str, Any]:
        """What ``name`` was registered with besides its factory."""
        return self._metadata[self._check(name)]

    def _check(self, name: object) -> str:
        if not isinstance(name, str) or name not in self._factories:
            known = self.names() + (["module:Class"] if self._entry_points else [])
            raise UnknownNameError(self.kind, name, known)
        return name
