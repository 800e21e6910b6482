"""The *tests process* of project grading, run inside the sandbox (sent after
:mod:`.wire`, :mod:`.values` and :mod:`.session_program`; its counterpart is
:mod:`.project_candidate_process`, and the host's side
:mod:`taskgym.envs.common.project_tests`).

``run_project_tests`` runs the task's hidden pytest suite and never holds candidate code.
It makes itself non-dumpable before it reads anything, receives ``{"tests": {path:
source}, "modules": [...]}``, writes the tests to a directory of its own, lets pytest
collect them, deletes them, and only then tells the host ``{"collected": [node ids],
"errors": [...]}``; the host starts the candidate after that (so no candidate code ever
runs while the tests are on disk) and answers ``{"go": true}``. Each test's outcome goes
to the host as ``{"result": {"id", "passed", "why"}}``, and the end as ``{"done": exit
status}``.

The candidate's modules (the names in ``modules``) are proxies here: attribute access,
calls and a few operations on them become ``{"op": ...}`` messages, relayed by the host
to the candidate process, whose answers are decoded strictly: plain values of exact
types, the candidate's classes by path, its other objects by handle, or the exception it
raised. So the candidate can lie about nothing the tests compare: an object of the
candidate equals only itself, and only plain values cross as values.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import shutil
import sys
import tempfile
import traceback
import types
from typing import Any

# Inside the sandbox these imports are replaced by the modules' sources (see
# taskgym.sandboxes.compose).
from taskgym.inside.session_program import private_control_pipes, session_workdir
from taskgym.inside.values import tag, untag
from taskgym.inside.wire import read_message, write_message

_WHY_CHARS = 2000


class CandidateNotRunning(RuntimeError):
    """Candidate code was used while the tests were being collected."""


class CandidateGone(RuntimeError):
    """The candidate's process died or did not answer in time."""


class CandidateError(Exception):
    """The candidate raised an exception that is not one of Python's own."""


class _Bridge:
    """The tests process's line to the host (and through it, to the candidate)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.running = False  # the candidate may be asked things (after collection)
        self.handles: dict[int, RemoteObject] = {}
        self.paths: dict[tuple[str, tuple[str, ...]], type] = {}
        self.mixed: dict[tuple[type, type], type] = {}

    def tell(self, message: dict[str, Any]) -> None:
        write_message(self.write_fd, message)

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        write_message(self.write_fd, message)
        reply = read_message(self.read_fd)
        if reply is None:
            os._exit(3)  # the host is gone: nothing left to report to
        return reply

    def op(self, **request: Any) -> Any:
        __tracebackhide__ = True  # pytest leaves these frames out of failure reports
        if not self.running:
            raise CandidateNotRunning(
                "the candidate's code cannot run while the tests are collected: use it "
                "inside a test or a fixture, not at the top of a test module"
            )
        return self.decode(self.ask({"op": request}))

    def decode(self, reply: dict[str, Any]) -> Any:
        """The candidate's answer as the tests see it, or the exception it raised. An
        answer that cannot be decoded is CandidateGone, never the error decoding raised
        (a ValueError would pass a test that expects the candidate to raise one)."""
        __tracebackhide__ = True
        try:
            value, raised = self._decoded(reply)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
            why = f"the candidate answered with something that is not a value: {e!r}"
            raise CandidateGone(why[:_WHY_CHARS]) from None
        if raised is not None:
            raise raised
        return value

    def _decoded(self, reply: dict[str, Any]) -> tuple[Any, BaseException | None]:
        if "v" in reply:
            return untag(reply["v"]), None
        if "items" in reply:  # an iteration of the candidate's object
            return [self.decode(item) for item in reply["items"]], None
        if "h" in reply:
            handle = int(reply["h"])
            known = self.handles.get(handle)
            if known is None:
                known = self.handles[handle] = RemoteObject(handle, str(reply.get("t", "")))
            return known, None
        if "cls" in reply:
            cls = reply["cls"]
            return self.path(str(cls["m"]), tuple(cls["q"].split("."))), None
        if "raise" in reply:
            return None, self.exception(reply["raise"])
        return None, CandidateGone(str(reply.get("error", "no answer from the candidate")))

    def path(self, module: str, attrs: tuple[str, ...]) -> type:
        """The one proxy class for ``module.attrs`` (the same object each time, so that
        ``pytest.raises`` and ``except`` match the exceptions the candidate raises)."""
        key = (module, attrs)
        proxy = self.paths.get(key)
        if proxy is None:
            name = attrs[-1] if attrs else module
            namespace = {"_tg_module": module, "_tg_attrs": attrs, "__module__": module}
            proxy = self.paths[key] = RemotePath(name, (RemoteException,), namespace)
        return proxy

    def exception(self, raised: dict[str, Any]) -> BaseException:
        builtin = getattr(builtins, str(raised.get("builtin", "")), None)
        if not (isinstance(builtin, type) and issubclass(builtin, Exception)):
            builtin = CandidateError  # never SystemExit or KeyboardInterrupt
        message = str(raised.get("message", ""))
        cls = raised.get("cls")
        if not cls:
            return builtin(message)
        proxy = self.path(str(cls["m"]), tuple(cls["q"].split(".")))
        kind = self.mixed.get((proxy, builtin), proxy)
        if builtin is not CandidateError and kind is proxy:
            # One class that is both: pytest.raises(OutOfStock) and (ValueError) match.
            with contextlib.suppress(TypeError):  # layouts that cannot mix: the path only
                kind = type(proxy.__name__, (proxy, builtin), {"__module__": proxy.__module__})
                self.mixed[(proxy, builtin)] = kind
        error: BaseException = Exception.__new__(kind)
        Exception.__init__(error, message)
        return error


_BRIDGE: _Bridge | None = None


def _bridge() -> _Bridge:
    assert _BRIDGE is not None
    return _BRIDGE


def _ref_of(value: Any) -> dict[str, Any] | None:
    if isinstance(value, RemoteObject):
        return {"h": object.__getattribute__(value, "_tg_handle")}
    if isinstance(value, RemotePath):
        return {"m": value._tg_module, "a": list(value._tg_attrs)}
    return None


def _argument(value: Any) -> dict[str, Any]:
    ref = _ref_of(value)
    if ref is not None:
        return {"ref": ref}
    try:
        return {"v": tag(value)}
    except TypeError:
        raise TypeError(
            f"a {type(value).__name__} cannot be passed to the candidate: only plain values "
            "(None, bool, int, float, complex, str, list, tuple, dict, set) and the "
            "candidate's own objects cross"
        ) from None


def _call(ref: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    __tracebackhide__ = True
    return _bridge().op(
        kind="call",
        ref=ref,
        args=[_argument(a) for a in args],
        kwargs={k: _argument(v) for k, v in kwargs.items()},
    )


def _special(ref: dict[str, Any], name: str, *args: Any) -> Any:
    __tracebackhide__ = True
    return _bridge().op(kind="special", ref=ref, name=name, args=[_argument(a) for a in args])


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class RemoteObject:
    """An object that lives in the candidate's process. It equals only itself; its
    attributes, calls, length, items and text come from the candidate."""

    __slots__ = ("_tg_handle", "_tg_type")

    def __init__(self, handle: int, type_name: str) -> None:
        object.__setattr__(self, "_tg_handle", handle)
        object.__setattr__(self, "_tg_type", type_name)

    def _tg_ref(self) -> dict[str, Any]:
        return {"h": object.__getattribute__(self, "_tg_handle")}

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name):
            raise AttributeError(name)
        return _bridge().op(kind="get", ref={**self._tg_ref(), "a": [name]})

    def __setattr__(self, name: str, value: Any) -> None:
        _special(self._tg_ref(), "setattr", name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _call(self._tg_ref(), args, kwargs)

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash(("remote", object.__getattribute__(self, "_tg_handle")))

    def __len__(self) -> int:
        return int(_special(self._tg_ref(), "len"))

    def __bool__(self) -> bool:
        return bool(_special(self._tg_ref(), "bool"))

    def __iter__(self) -> Any:
        return iter(_special(self._tg_ref(), "iter"))

    def __getitem__(self, key: Any) -> Any:
        return _special(self._tg_ref(), "getitem", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _special(self._tg_ref(), "setitem", key, value)

    def __delitem__(self, key: Any) -> None:
        _special(self._tg_ref(), "delitem", key)

    def __contains__(self, item: Any) -> bool:
        return bool(_special(self._tg_ref(), "contains", item))

    def __str__(self) -> str:
        return str(_special(self._tg_ref(), "str"))

    def __repr__(self) -> str:
        try:
            return str(_special(self._tg_ref(), "repr"))
        except Exception:
            return f"<candidate's {object.__getattribute__(self, '_tg_type')}>"


class RemoteException(Exception):
    """The base of every proxy class, so that a proxy of the candidate's exception class
    can be given to ``pytest.raises`` and ``except``."""


class RemotePath(type):
    """The class of proxies for names in the candidate's modules (``inventory.Stock``,
    ``inventory.parse``). A proxy is resolved when used: before the candidate runs (while
    pytest collects) ``from inventory import Stock`` only records the path."""

    _tg_module: str
    _tg_attrs: tuple[str, ...]

    def _tg_ref(cls) -> dict[str, Any]:
        return {"m": cls._tg_module, "a": list(cls._tg_attrs)}

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _call(cls._tg_ref(), args, kwargs)

    def __getattr__(cls, name: str) -> Any:
        if _is_dunder(name) or name.startswith("_tg_"):
            raise AttributeError(name)
        bridge = _bridge()
        if not bridge.running:
            return bridge.path(cls._tg_module, (*cls._tg_attrs, name))
        return bridge.op(kind="get", ref={"m": cls._tg_module, "a": [*cls._tg_attrs, name]})

    def __instancecheck__(cls, instance: Any) -> bool:
        if type.__instancecheck__(cls, instance):
            return True
        if isinstance(instance, RemoteObject):
            return bool(_special(instance._tg_ref(), "isinstance", cls))
        return False

    def _tg_value(cls, operation: str) -> Any:
        """What the path names, for an operation a proxy class cannot do itself."""
        value = _bridge().op(kind="get", ref=cls._tg_ref())
        if value is cls:
            raise TypeError(f"{cls._tg_dotted()} is a class: {operation} is not supported")
        return value

    def _tg_dotted(cls) -> str:
        return ".".join([cls._tg_module, *cls._tg_attrs])

    def __eq__(cls, other: object) -> bool:
        if other is cls or isinstance(other, type) or not _bridge().running:
            return other is cls
        return bool(cls._tg_value("==") == other)

    def __ne__(cls, other: object) -> bool:
        return not cls.__eq__(other)

    def __hash__(cls) -> int:
        return id(cls)

    def __bool__(cls) -> bool:
        if not _bridge().running:
            return True
        value = _bridge().op(kind="get", ref=cls._tg_ref())
        return True if value is cls else bool(value)

    def __len__(cls) -> int:
        return len(cls._tg_value("len"))

    def __iter__(cls) -> Any:
        return iter(cls._tg_value("iteration"))

    def __getitem__(cls, key: Any) -> Any:
        return cls._tg_value("[]")[key]

    def __contains__(cls, item: Any) -> bool:
        return item in cls._tg_value("in")

    def __repr__(cls) -> str:
        return f"<candidate's {cls._tg_dotted()}>"


class RemoteModule(types.ModuleType):
    """A module of the candidate, as the tests import it."""

    def __getattr__(self, name: str) -> Any:
        if _is_dunder(name):
            raise AttributeError(name)
        bridge = _bridge()
        if not bridge.running:
            return bridge.path(self.__name__, (name,))
        return bridge.op(kind="get", ref={"m": self.__name__, "a": [name]})


class _CandidateFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import inventory`` (and its submodules) give proxies in the tests
    process; the candidate's files are never read here."""

    def __init__(self, modules: set[str]) -> None:
        self.modules = modules

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition(".")[0] not in self.modules:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        module = RemoteModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _Reporter:
    """The pytest plugin of the tests process: it deletes the tests once collected,
    waits for the host's go, and reports each test's outcome."""

    def __init__(self, bridge: _Bridge, suite: str, workdir: str) -> None:
        self.bridge, self.suite, self.workdir = bridge, suite, workdir
        self.errors: list[str] = []
        self.failures: dict[str, str] = {}
        self.called: set[str] = set()

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longreprtext)[-_WHY_CHARS:]}")

    def pytest_collection_finish(self, session: Any) -> None:
        shutil.rmtree(self.suite, ignore_errors=True)
        # Tests run in the work directory, so they may read the files the agent left
        # (reading data runs nothing; imports still go to the candidate).
        os.chdir(self.workdir)
        ids = [item.nodeid for item in session.items]
        reply = self.bridge.ask({"collected": ids, "errors": self.errors})
        if reply != {"go": True}:
            os._exit(4)
        self.bridge.running = True

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and report.nodeid not in self.failures:
            self.failures[report.nodeid] = f"{report.when}: {report.longreprtext}"
        if report.when == "call" and report.passed:
            self.called.add(report.nodeid)
        if report.when == "teardown":
            why = self.failures.get(report.nodeid)
            passed = why is None and report.nodeid in self.called
            if not passed and why is None:
                why = "skipped"
            result = {"id": report.nodeid, "passed": passed, "why": (why or "")[-_WHY_CHARS:]}
            self.bridge.tell({"result": result})


def run_project_tests() -> None:
    global _BRIDGE  # noqa: PLW0603 - one bridge for the process, set once here
    read_fd, write_fd = private_control_pipes()
    request = read_message(read_fd)
    if request is None:
        return
    bridge = _BRIDGE = _Bridge(read_fd, write_fd)
    try:
        import site  # noqa: PLC0415 - pytest lives in the system's site-packages

        site.main()
        import pytest  # noqa: PLC0415
    except BaseException as e:
        bridge.tell({"fatal": f"pytest cannot be imported in the sandbox: {e!r}"})
        return
    try:
        status = _run_pytest(pytest, bridge, request)
    except BaseException:
        bridge.tell({"fatal": traceback.format_exc()[-_WHY_CHARS:]})
        return
    bridge.tell({"done": int(status)})


def _run_pytest(pytest: Any, bridge: _Bridge, request: dict[str, Any]) -> Any:
    workdir = session_workdir()
    sys.dont_write_bytecode = True
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sys.meta_path.insert(0, _CandidateFinder(set(request["modules"])))
    # pytest runs in ``root`` and collects ``root/suite``, which goes once collected.
    root = tempfile.mkdtemp(prefix="tests-")
    suite = os.path.join(root, "suite")
    for relative, source in request["tests"].items():
        path = os.path.join(suite, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
    ini = os.path.join(root, "pytest.ini")
    with open(ini, "w", encoding="utf-8") as f:
        f.write("[pytest]\n")
    os.chdir(root)
    args = [
        suite, "-c", ini, "--rootdir", root, "--confcutdir", root, "-q", "--tb=short",
        "-p", "no:cacheprovider", "-p", "no:pastebin", "-p", "no:junitxml",
        "-p", "no:legacypath",
    ]  # fmt: skip
    return pytest.main(args, plugins=[_Reporter(bridge, suite, workdir)])
