"""Plain values across the sandbox's boundary, as JSON tagged by exact type: what a
candidate's function returns (:mod:`.harness`, :mod:`.assert_tests`) and what the
tests and the candidate's process send each other (:mod:`.project_tests_process`,
:mod:`.project_candidate_process`).

:func:`tag` takes only values of exact built-in types (the standard library's dicts,
such as ``Counter``, go as their items) and raises TypeError for anything else: an
``int`` subclass, an object whose ``__eq__`` lies, a generator. So nothing a program
defines can cross and be compared on the other side. :func:`untag` makes a plain value
of exactly the tagged type again.
"""

from __future__ import annotations

import collections
import math
from typing import Any

_MAX_DEPTH = 64
# The standard library's dicts, taken before any candidate code runs (it cannot swap them).
_STDLIB_DICTS = (collections.Counter, collections.OrderedDict, collections.defaultdict)


def tag(value: Any, depth: int = 0) -> Any:  # noqa: PLR0911 - one return a type
    """``value`` as tagged JSON, by exact type; TypeError for anything else."""
    if depth > _MAX_DEPTH:
        raise TypeError("value nested too deeply")
    kind = type(value)
    if value is None:
        return None
    if kind is bool:
        return {"b": value}
    if kind is int:
        return {"i": str(value)}
    if kind is float:
        return {"f": repr(value)} if not math.isfinite(value) else {"f": value}
    if kind is str:
        return {"s": value}
    if kind is list or kind is tuple:
        return {"l" if kind is list else "t": [tag(item, depth + 1) for item in value]}
    if kind is complex:
        return {"c": [repr(value.real), repr(value.imag)]}
    if kind is dict or kind in _STDLIB_DICTS:
        # Encoded as its items: data crosses, behaviour (a lying __eq__) does not.
        return {"d": [[tag(k, depth + 1), tag(v, depth + 1)] for k, v in dict.items(value)]}
    if kind is set or kind is frozenset:
        return {"S" if kind is set else "F": [tag(item, depth + 1) for item in value]}
    raise TypeError(f"not a plain value: {kind.__module__}.{kind.__qualname__}")


def untag(tagged: Any) -> Any:  # noqa: PLR0911 - one return a type
    """A tagged value back to a plain Python value of exactly that type."""
    if tagged is None:
        return None
    ((kind, body),) = tagged.items()
    if kind == "b":
        return bool(body)
    if kind == "s":
        return str(body)
    if kind == "i":
        return int(body)
    if kind == "f":
        return float(body)
    if kind == "c":
        return complex(float(body[0]), float(body[1]))
    if kind in ("l", "t"):
        items = [untag(item) for item in body]
        return items if kind == "l" else tuple(items)
    if kind == "d":
        return {untag(k): untag(v) for k, v in body}
    if kind in ("S", "F"):
        members = {untag(item) for item in body}
        return members if kind == "S" else frozenset(members)
    raise ValueError(f"unknown tag {kind!r}")
