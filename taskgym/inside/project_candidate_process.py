"""The *candidate process* of project grading, run inside the sandbox (sent after
:mod:`.wire`, :mod:`.values` and :mod:`.session_program`; its counterpart is
:mod:`.project_tests_process`).

``serve_project`` imports the agent's files (never the tests: they are not in this
process, nor on disk once it runs) and answers each ``{"op": ...}`` message the host
relays from the tests process with plain values of exact types (``{"v": tagged}``), a
class by its path (``{"cls"}``), any other object by a handle (``{"h"}``), or an
exception (``{"raise"}``).
"""

from __future__ import annotations

import builtins
import importlib
import itertools
import os
import sys
import types
from typing import Any

# Inside the sandbox these imports are replaced by the modules' sources (see
# taskgym.sandboxes.compose).
from taskgym.inside.session_program import control_pipes, session_workdir
from taskgym.inside.values import tag, untag
from taskgym.inside.wire import read_message, write_message

_MAX_ITEMS = 100_000  # the most items one iteration of a candidate's object may yield
# The longest exception message sent to the tests process.
_MESSAGE_CHARS = 2000


class _Objects:
    """The candidate's objects the tests hold handles to (kept alive, so ids stay)."""

    def __init__(self, generation: int) -> None:
        self.base = generation * 1_000_000_000
        self.by_handle: dict[int, Any] = {}
        self.by_id: dict[int, int] = {}

    def handle(self, value: Any) -> int:
        known = self.by_id.get(id(value))
        if known is None:
            known = self.base + len(self.by_handle) + 1
            self.by_handle[known] = value
            self.by_id[id(value)] = known
        return known

    def get(self, handle: Any) -> Any:
        if type(handle) is not int or handle not in self.by_handle:
            raise LookupError(
                "this object came from an earlier run of the candidate, which was stopped"
            )
        return self.by_handle[handle]


def _class_path(value: type) -> dict[str, str] | None:
    """The class's import path, when it leads back to the class itself."""
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    target: Any = sys.modules.get(module)
    for name in qualname.split("."):
        target = getattr(target, name, None)
    return {"m": module, "q": qualname} if target is value else None


def _encode(value: Any, objects: _Objects) -> dict[str, Any]:
    try:
        return {"v": tag(value)}
    except (TypeError, RecursionError):
        pass
    if isinstance(value, type):
        path = _class_path(value)
        if path is not None:
            return {"cls": path}
    return {"h": objects.handle(value), "t": type(value).__qualname__}


def _resolve(ref: dict[str, Any], objects: _Objects) -> Any:
    target = objects.get(ref["h"]) if "h" in ref else importlib.import_module(str(ref["m"]))
    for name in ref.get("a", []):
        try:
            target = getattr(target, name)
        except AttributeError:
            if not isinstance(target, types.ModuleType):
                raise
            target = importlib.import_module(f"{target.__name__}.{name}")
    return target


def _value(argument: dict[str, Any], objects: _Objects) -> Any:
    if "ref" in argument:
        return _resolve(argument["ref"], objects)
    return untag(argument["v"])


def _raised(error: BaseException) -> dict[str, Any]:
    builtin = next(
        (
            k.__name__
            for k in type(error).__mro__
            if getattr(builtins, k.__name__, None) is k and issubclass(k, Exception)
        ),
        "",
    )
    try:
        message = str(error)[:_MESSAGE_CHARS]
    except BaseException:
        message = "(an exception whose message cannot be read)"
    if not builtin:
        message = f"{type(error).__name__}: {message}"
    cls = _class_path(type(error))
    if cls is not None and cls["m"] == "builtins":
        cls = None
    return {"raise": {"builtin": builtin, "cls": cls, "message": message}}


def _special_op(target: Any, name: str, args: list[Any]) -> Any:  # noqa: PLR0911
    if name == "len":
        return len(target)
    if name == "bool":
        return bool(target)
    if name == "iter":
        items = list(itertools.islice(iter(target), _MAX_ITEMS + 1))
        if len(items) > _MAX_ITEMS:
            raise ValueError(f"more than {_MAX_ITEMS} items")
        return items
    if name == "getitem":
        return target[args[0]]
    if name == "setitem":
        target[args[0]] = args[1]
        return None
    if name == "delitem":
        del target[args[0]]
        return None
    if name == "contains":
        return args[0] in target
    if name == "setattr":
        setattr(target, args[0], args[1])
        return None
    if name == "isinstance":
        return isinstance(target, args[0])
    if name == "str":
        return str(target)
    if name == "repr":
        return repr(target)
    raise ValueError(f"unknown operation {name!r}")


def _answer(request: dict[str, Any], objects: _Objects) -> dict[str, Any]:
    kind = request.get("kind")
    target = _resolve(request["ref"], objects)
    args = [_value(a, objects) for a in request.get("args", [])]
    if kind == "get":
        return _encode(target, objects)
    if kind == "call":
        kwargs = {str(k): _value(v, objects) for k, v in request.get("kwargs", {}).items()}
        return _encode(target(*args, **kwargs), objects)
    result = _special_op(target, str(request.get("name")), args)
    if request.get("name") == "iter":
        return {"items": [_encode(item, objects) for item in result]}
    if request.get("name") in ("str", "repr") and type(result) is not str:
        raise TypeError("__str__ and __repr__ must return a str")
    return _encode(result, objects)


def serve_project() -> None:
    read_fd, write_fd = control_pipes()
    request = read_message(read_fd)
    if request is None:
        return
    workdir = session_workdir()
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    objects = _Objects(int(request.get("generation", 0)))
    write_message(write_fd, {"ready": True})
    while True:
        message = read_message(read_fd)
        if message is None:
            return
        try:
            reply = _answer(message, objects)
        except BaseException as e:
            reply = _raised(e)
        write_message(write_fd, reply)
