"""The message framing between taskgym and its helper processes inside sandboxes (the
zygote, the docker exec server): a 4-byte big-endian length, then a JSON object.

Standard library only, with no taskgym import: the helpers' sources are sent into the
sandbox with this module's source in front of them (see :func:`compose_source`).
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from pathlib import Path
from typing import Any


def encode_message(message: dict[str, Any]) -> bytes:
    try:
        body = json.dumps(message).encode()
    except RecursionError:  # a relayed message nested past the limit: not sendable
        raise ValueError("a message nested too deeply") from None
    return struct.pack(">I", len(body)) + body


def write_message(fd: int, message: dict[str, Any]) -> None:
    data = encode_message(message)
    while data:
        data = data[os.write(fd, data) :]


def read_message(
    fd: int, deadline: float | None = None, max_bytes: int | None = None
) -> dict[str, Any] | None:
    """The next message on ``fd``; None when the stream ends. With a ``deadline`` the fd
    must be non-blocking, and TimeoutError is raised when it passes; a message longer
    than ``max_bytes`` is a ValueError (read from a program that may lie about it)."""
    header = _read_exact(fd, 4, deadline)
    if header is None:
        return None
    size = struct.unpack(">I", header)[0]
    if max_bytes is not None and size > max_bytes:
        raise ValueError(f"a message of {size} bytes; at most {max_bytes} are read")
    body = _read_exact(fd, size, deadline)
    if body is None:
        return None
    try:
        message: dict[str, Any] = json.loads(body)
    except RecursionError:  # as malformed as bad JSON (a program may send either)
        raise ValueError("a message nested too deeply") from None
    return message


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        try:
            chunk = os.read(fd, size - len(data))
        except BlockingIOError:  # only with a deadline: the fd is non-blocking then
            remaining = float("inf") if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply in time") from None
            # poll() on one fd: no epoll object made and closed for every message, and
            # no limit on the fd's number as select() has.
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll(None if deadline is None else max(remaining * 1000, 1))
            continue
        if not chunk:
            return None
        data += chunk
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
