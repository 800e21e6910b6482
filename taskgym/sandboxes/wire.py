"""The message framing between taskgym and its helper processes inside sandboxes (the
zygote, the docker exec server): a 4-byte big-endian length, then a JSON object.

Standard library only, with no taskgym import: the helpers' sources are sent into the
sandbox with this module's source in front of them (see :func:`compose_source`).
"""

from __future__ import annotations

import json
import os
import selectors
import struct
import time
from pathlib import Path
from typing import Any


def encode_message(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


def write_message(fd: int, message: dict[str, Any]) -> None:
    data = encode_message(message)
    while data:
        data = data[os.write(fd, data) :]


def read_message(fd: int, deadline: float | None = None) -> dict[str, Any] | None:
    """The next message on ``fd``; None when the stream ends. With a ``deadline`` the fd
    must be non-blocking, and TimeoutError is raised when it passes."""
    header = _read_exact(fd, 4, deadline)
    body = None if header is None else _read_exact(fd, struct.unpack(">I", header)[0], deadline)
    if body is None:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    data = bytearray()
    selector = None if deadline is None else selectors.DefaultSelector()
    try:
        if selector is not None:
            selector.register(fd, selectors.EVENT_READ)
        while len(data) < size:
            if selector is not None and deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no reply in time")
                if not selector.select(timeout=remaining):
                    continue
            try:
                chunk = os.read(fd, size - len(data))
            except BlockingIOError:
                continue
            if not chunk:
                return None
            data += chunk
    finally:
        if selector is not None:
            selector.close()
    return bytes(data)


def compose_source(*modules: str | Path) -> str:
    """The sources of modules (names of modules beside this one, or paths) joined into
    one program for ``python3 -c``: their ``from __future__`` lines, imports of each other
    and, but for the last, ``__main__`` blocks dropped."""
    here = Path(__file__).parent  # not at import: inside a sandbox there is no __file__
    parts = []
    for position, module in enumerate(modules):
        path = module if isinstance(module, Path) else here / f"{module}.py"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if position < len(modules) - 1 and 'if __name__ == "__main__":\n' in lines:
            # Only the last module is the program; the others are libraries to it.
            lines = lines[: lines.index('if __name__ == "__main__":\n')]
        parts.append(
            "".join(
                line
                for line in lines
                if line != "from __future__ import annotations\n"
                and not line.startswith("from taskgym.")
            )
        )
    return "from __future__ import annotations\n" + "\n".join(parts)
