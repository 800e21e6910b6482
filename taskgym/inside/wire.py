"""The message framing between taskgym and its programs inside sandboxes (the zygote,
the docker exec server, the grading programs): a 4-byte big-endian length, then a JSON
object. Both sides use it: the host imports it, and each program is sent with this
module's source in front of it (see :mod:`taskgym.sandboxes.compose`).
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
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
