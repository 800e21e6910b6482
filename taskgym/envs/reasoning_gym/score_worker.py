"""The process that runs reasoning-gym's ``score_answer`` on an agent's answer, apart from
the trainer: scoring functions can take unbounded time on hostile text, and some of them
evaluate it (``eval(answer)`` for matrices and boards, sympy's ``parse_expr`` for
expressions, which calls ``eval`` too).

Run as ``python -I score_worker.py FD [PATH]`` (``PATH``: where reasoning_gym is
installed, put first on ``sys.path``), confined by
:class:`~taskgym.envs.common.confined.ConfinedWorker`. It imports no taskgym module.

Agent text never runs as code here. While an answer is scored, an audit hook
(:func:`_audit`) refuses to compile any source that is not a plain expression (numbers,
strings, names that are not private, arithmetic, comparisons, lists and tuples, and
calls of sympy's mathematical classes and functions by name; no attributes, subscripts,
lambdas or comprehensions), and refuses to start processes, open sockets, load native
code or write files. What is refused raises inside ``score_answer``, whose answer then
scores 0 with the reason. Without bubblewrap this hook is the only wall; with it, the
second.

Items are made here too, not in the host: some datasets depend on the order of a set
(``polynomial_multiplication``), which depends on the hash seed, so an item is a pure
function of its seed only in a process whose hash seed is fixed. The worker runs with
``PYTHONHASHSEED=0``.

Protocol: ``{"ready": true}`` on ``FD`` once reasoning_gym is loaded; then one JSON
object a line on stdin with an ``id`` and an ``op``: ``describe`` (every dataset and
its curriculum's highest level), ``check``, ``item``, ``prepare`` (make the item, kept
for the ``score`` that follows) or ``score`` (with ``dataset``, ``level``, ``config``,
``seed``; ``score`` with ``answer`` too). The reply on ``FD``
carries the ``id`` and ``datasets``; ``ok`` or ``bad`` (what is wrong with the config);
``question`` and ``answer``; ``score`` or ``refused`` (the scoring function raised, or
was refused something); or ``error`` (a failure of reasoning-gym or of this worker).
"""

from __future__ import annotations

import ast
import copy
import json
import math
import os
import resource
import sys
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

_SCORING = [False]
# Events refused while an answer is scored: running programs, the network, native code.
_REFUSED_PREFIXES = ("subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "socket.", "ctypes.")
_REFUSED_EVENTS = frozenset({"os.system", "os.fork", "os.forkpty", "os.kill", "os.killpg"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_SAFE_NODES = (
    ast.Expression,
    ast.ImportFrom,
    ast.alias,
    ast.Module,
    ast.Expr,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Call,
    ast.keyword,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
_CALLABLE: frozenset[str] = frozenset()
"""Names a compiled expression may call: sympy's classes and mathematical functions (set
when sympy is loaded; empty without it)."""
_MAX_SOURCE = 100_000


class Refused(Exception):
    """Something scoring the answer tried was refused."""


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _SCORING[0]:
        return
    if event == "compile":
        if not _module_file(args[1]):  # a module imported now is read from disk, not sent
            _SCORING[0] = False  # the check parses the source: a compile of its own
            try:
                _check_source(args[0])
            finally:
                _SCORING[0] = True
    elif event in _REFUSED_EVENTS or event.startswith(_REFUSED_PREFIXES):
        raise Refused(f"{event} while scoring")
    elif event == "open" and len(args) > 2 and isinstance(args[2], int) and args[2] & _WRITE_FLAGS:
        raise Refused("writing a file while scoring")


def _module_file(filename: Any) -> bool:
    """Whether ``filename`` names a Python file on disk (the worker sees the system and its
    packages read-only, and may write no file, so nothing the agent wrote is one)."""
    name = os.fsdecode(filename) if isinstance(filename, (str, bytes)) else ""
    return name.endswith(".py") and os.path.isabs(name) and os.path.isfile(name)


def _check_source(source: Any) -> None:
    """Refuse (raise) unless ``source`` is a plain expression (see the module docstring)."""
    if isinstance(source, bytes):
        source = source.decode("utf-8", errors="replace")
    if isinstance(source, str):
        if len(source) > _MAX_SOURCE:
            raise Refused("compiling a source too long while scoring")
        try:
            tree: ast.AST = ast.parse(source, mode="exec")
        except SyntaxError:
            return  # compile() will raise it too: nothing runs
    elif isinstance(source, ast.AST):
        tree = source
    else:
        raise Refused(f"compiling a {type(source).__name__} while scoring")
    for node in ast.walk(tree):
        if not isinstance(node, _SAFE_NODES):
            raise Refused(f"compiling code with {type(node).__name__} while scoring")
        if isinstance(node, ast.Module) and not all(map(_harmless_statement, node.body)):
            raise Refused("compiling statements while scoring")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise Refused(f"compiling code that names {node.id!r} while scoring")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _CALLABLE
        ):
            raise Refused("compiling code that calls what is not a sympy function")
        if isinstance(node, ast.keyword) and node.arg is None:
            raise Refused("compiling code with **keywords while scoring")


def _harmless_statement(node: ast.stmt) -> bool:
    """An expression, or ``from sympy import *`` (sympy's parser fills its namespace so)."""
    if isinstance(node, ast.ImportFrom):
        return node.module == "sympy" and [a.name for a in node.names] == ["*"]
    return isinstance(node, ast.Expr)


def _sympy_callables() -> frozenset[str]:
    try:
        import sympy  # noqa: PLC0415 - reasoning_gym loads it anyway
    except ImportError:
        return frozenset()
    names = {"sqrt", "root", "cbrt", "real_root", "Rational", "Integer", "Float", "Symbol"}
    for name, value in vars(sympy).items():
        if name.startswith("_"):
            continue
        if isinstance(value, type) and issubclass(value, sympy.Basic):
            names.add(name)
    return frozenset(names)


def _cap_resources() -> None:
    gib = 1 << 30
    for limit, value in ((resource.RLIMIT_AS, 4 * gib), (resource.RLIMIT_FSIZE, 0)):
        _, hard = resource.getrlimit(limit)
        cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (cap, hard))


def dataset_kwargs(
    factory: Any, name: str, level: int | None, config: Mapping[str, Any]
) -> dict[str, Any]:
    """The keyword arguments of dataset ``name`` (``factory``: ``reasoning_gym.factory``):
    the fields its curriculum sets with every attribute at ``level`` (or at its highest,
    where it has fewer levels; ranges span the levels up to it, as the curriculum's
    default context makes them), then ``config`` over them."""
    kwargs: dict[str, Any] = {}
    if level is not None:
        curriculum = factory.create_curriculum(name)
        curriculum.set_global_level(level)
        made = curriculum.generate_configuration()
        for attr in curriculum.attributes.values():
            for field in ("lower_field_name", "upper_field_name", "field_name"):
                key = getattr(attr, field, None)
                if isinstance(key, str) and hasattr(made, key):
                    kwargs[key] = getattr(made, key)
    kwargs.update(config)
    if name == "composite" and isinstance(kwargs.get("datasets"), list):
        # JSON holds the datasets as mappings: made into DatasetSpecs, as reasoning-gym's
        # own CompositeConfig.from_yaml_stream does.
        from reasoning_gym.composite import DatasetSpec  # noqa: PLC0415

        kwargs["datasets"] = [
            DatasetSpec(**spec) if isinstance(spec, dict) else spec for spec in kwargs["datasets"]
        ]
    return kwargs


def _max_level(factory: Any, name: str) -> int | None:
    """The highest level of the curriculum of ``name`` (its attribute with the most
    levels has that many, less one); None without a curriculum."""
    if not factory.has_curriculum(name):
        return None
    attributes = factory.create_curriculum(name).attributes.values()
    return max((len(a.levels) for a in attributes), default=1) - 1


def _dataset(factory: Any, request: dict[str, Any]) -> Any:
    """Dataset ``name`` of one item (item 0, made from ``Random(seed)``)."""
    name, level = request["dataset"], request["level"]
    kwargs = dataset_kwargs(factory, name, level, request["config"])
    return factory.create_dataset(name, seed=request["seed"], size=1, **kwargs)


_MADE: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_MADE_SIZE = 256


def _made(factory: Any, request: dict[str, Any]) -> tuple[Any, Any]:
    """The dataset and item of the request, kept for the last items made: an answer's
    scoring time starts after its item is made (some take seconds)."""
    key = json.dumps([request[k] for k in ("dataset", "level", "config", "seed")])
    found = _MADE.get(key)
    if found is None:
        dataset = _dataset(factory, request)
        found = _MADE[key] = (dataset, dataset[0])
        if len(_MADE) > _MADE_SIZE:
            _MADE.popitem(last=False)
    _MADE.move_to_end(key)
    return found


def _prepare(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    _made(factory, request)
    return {"ok": True}


def _describe(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Every dataset and the highest level of its curriculum (None for none)."""
    return {"datasets": {name: _max_level(factory, name) for name in sorted(factory.DATASETS)}}


def _check(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Whether the dataset can be made with the request's level and config."""
    name, level = request["dataset"], request["level"]
    if name not in factory.DATASETS:
        return {"bad": f"reasoning-gym has no dataset {name!r}"}
    top = _max_level(factory, name)
    if level is not None and (top is None or not 0 <= level <= top):
        allowed = "no levels: it has no curriculum" if top is None else f"levels 0 to {top}"
        return {"bad": f"{name!r} has {allowed}; level was {level!r}"}
    try:
        _dataset(factory, {**request, "seed": 0})
    except Exception as e:  # the config's own checks: asserts, ValueErrors, TypeErrors
        return {"bad": f"{type(e).__name__}: {e}"[:2000]}
    return {"ok": True}


# Where datasets with no single answer keep one right answer in an item's metadata.
_EXAMPLES = ("possible_answer", "example_answer", "example_correct_answer")


def _item(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    _, entry = _made(factory, request)
    answer, metadata = entry["answer"], entry.get("metadata") or {}
    example = next((metadata[key] for key in _EXAMPLES if metadata.get(key) is not None), None)
    return {
        "question": str(entry["question"]),
        "answer": None if answer is None else str(answer),
        # A structure is written as JSON, the form these datasets' prompts ask for.
        "example": example if example is None or isinstance(example, str) else json.dumps(example),
    }


def _score(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    dataset, kept = _made(factory, request)
    entry = copy.deepcopy(kept)  # what scoring one answer changes in it, no other sees
    _SCORING[0] = True
    try:
        score = dataset.score_answer(request["answer"], entry)
    except Exception as e:  # the answer made the scoring function raise: the agent's
        return {"refused": f"{type(e).__name__}: {e}"[:500]}
    finally:
        _SCORING[0] = False
    try:
        value = float(score)
    except (TypeError, ValueError):
        return {"error": f"score_answer returned {type(score).__name__}, not a number"}
    if not math.isfinite(value):
        return {"error": f"score_answer returned {value}"}
    return {"score": value}


_OPS = {
    "describe": _describe,
    "check": _check,
    "item": _item,
    "prepare": _prepare,
    "score": _score,
}


def _answer(factory: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        return _OPS[request["op"]](factory, request)
    except Exception as e:  # making an item failed: the framework's, said as such
        return {"error": f"{type(e).__name__}: {e}"[:2000]}


def main() -> None:
    global _CALLABLE  # noqa: PLW0603 - set once, before any answer is read
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)  # unconfined, its directory's modules would shadow packages
    replies = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    if len(sys.argv) > 2:
        sys.path.insert(0, sys.argv[2])
    from reasoning_gym import factory  # noqa: PLC0415 - after sys.path is set

    _CALLABLE = _sympy_callables()
    _cap_resources()
    sys.addaudithook(_audit)
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in sys.stdin:
        request = json.loads(line)
        replies.write(json.dumps({"id": request["id"], **_answer(factory, request)}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
