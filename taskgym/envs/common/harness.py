"""The harness that calls a candidate's function inside the sandbox (run as ``__main__``
in a zygote child; standard library only).

It reads ``{"source", "entry_point", "args": [[...], ...]}`` from stdin: never the
expected values, which stay on the trusted side. For each call it writes one JSON line to
file descriptor 3: ``{"i": n, "v": <tagged value>}`` or ``{"i": n, "e": "<error>"}``.
Values are tagged by their exact type (the standard library's dicts, such as ``Counter``,
go as their items), and anything else (an ``int`` subclass, an object whose ``__eq__``
lies, a generator) is an error, not a value: nothing the program defines can cross the
boundary and be compared on the other side.
Exit status and stdout are ignored by the grader.
"""

from __future__ import annotations

import collections
import json
import math
import os
import sys
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


def main() -> None:
    request = json.loads(sys.stdin.read())
    channel = os.fdopen(3, "w", encoding="utf-8", buffering=1)
    namespace: dict[str, Any] = {"__name__": "solution"}
    try:
        exec(compile(request["source"], "solution.py", "exec"), namespace)  # the point
        function = namespace[request["entry_point"]]
    except BaseException as e:  # whatever the program does, report it
        channel.write(json.dumps({"setup_error": f"{type(e).__name__}: {e}"[:500]}) + "\n")
        return
    for index, args in enumerate(request["args"]):
        try:
            line = {"i": index, "v": tag(function(*args))}
        except BaseException as e:
            line = {"i": index, "e": f"{type(e).__name__}: {e}"[:500]}
        channel.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
