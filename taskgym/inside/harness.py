"""The harness that calls a candidate's function inside the sandbox (run as ``__main__``
in a zygote child, sent after :mod:`.values`).

It reads ``{"source", "entry_point", "args": [[...], ...]}`` from stdin: never the
expected values, which stay on the trusted side. For each call it writes one JSON line to
file descriptor 3: ``{"i": n, "v": <tagged value>}`` or ``{"i": n, "e": "<error>"}``.
Values are tagged by their exact type (see :mod:`.values`), and anything else (an
``int`` subclass, an object whose ``__eq__`` lies, a generator) is an error, not a
value: nothing the program defines can cross the boundary and be compared on the other
side.
Exit status and stdout are ignored by the grader.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Inside the sandbox this import is replaced by the module's source (see
# taskgym.sandboxes.compose).
from taskgym.inside.values import tag


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
