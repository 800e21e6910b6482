"""The two programs behind assert-style grading, run inside the sandbox (standard library
only; each is sent with :mod:`taskgym.sandboxes.wire` and :mod:`.harness` in front).

``run_tests``: makes itself non-dumpable *before* reading anything, reads ``{"prelude",
"test", "entry_point", "call"}``, says ``ready``, runs the test code with the entry point
bound to a proxy, and reports ``{"passed": true}`` or ``{"failed": "..."}``. Each call
of the proxy is a ``{"call": [tagged args]}`` message to the host, answered with
``{"v": tagged}`` or ``{"e": "..."}``; or, when the request says ``"direct"``, an
``{"args": [tagged args]}`` message straight to the candidate's process on file
descriptor 3, answered on descriptor 4 (the two zygotes' children are given a channel
of their own: see ``pair_zygotes``), each answer awaited until the request's
``"seconds"`` run out and read only up to ``"max_bytes"``.

``serve_candidate``: reads ``{"prelude", "candidate", "entry_point"}`` (never the
tests), then answers ``{"args": [...]}`` messages with the function's tagged value, from
the host or, with ``"direct"``, from the tests' process on descriptors 4 and 3.

The host starts the candidate only after the test process said ``ready``, and as a
separate process, not a fork: nothing the candidate can reach (its memory, its parents'
memory, the test process's /proc entries) holds the tests.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
import traceback
from typing import Any

from taskgym.envs.common.harness import tag
from taskgym.sandboxes.wire import read_message, write_message

_PR_SET_DUMPABLE = 4


class CandidateError(Exception):
    """The candidate raised (or is gone); the message says how."""


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


def _control() -> tuple[int, int]:
    """The host's pipes, moved off stdin/stdout so nothing else can write to them."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    return read_fd, write_fd


def _private_control() -> tuple[int, int]:
    """For a process that will hold tests: non-dumpable first (its memory and /proc
    entries closed to the candidate), then the host's pipes (see :func:`_control`)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    return _control()


def run_tests() -> None:
    read_fd, write_fd = _private_control()
    request = read_message(read_fd)
    if request is None:
        return
    write_message(write_fd, {"ready": True})
    if request.get("direct"):
        candidate = _direct_proxy(float(request["seconds"]), int(request["max_bytes"]))
    else:

        def candidate(*args: Any) -> Any:
            write_message(write_fd, {"call": [tag(a) for a in args]})
            return _value_of(read_message(read_fd))

    namespace: dict[str, Any] = {"__name__": "tests"}
    try:
        exec(compile(request["prelude"], "prompt.py", "exec"), namespace)
        namespace[request["entry_point"]] = candidate
        namespace["candidate"] = candidate
        exec(compile(request["test"], "tests.py", "exec"), namespace)
        exec(compile(request["call"], "call.py", "exec"), namespace)
    except BaseException as e:
        frame = traceback.extract_tb(e.__traceback__)[-1]
        failure = f"{type(e).__name__} at {frame.filename}:{frame.lineno}: {e}"
        write_message(write_fd, {"failed": failure[:500]})
    else:
        write_message(write_fd, {"passed": True})


_TO_PEER, _FROM_PEER = 3, 4


def _direct_proxy(seconds: float, max_bytes: int) -> Any:
    """The entry point as the tests see it when they call the candidate's process
    directly: every answer is untrusted (it comes from the program under test), so it
    is read with a deadline and a size limit and decoded strictly; anything but a value
    is a CandidateError."""
    deadline = time.monotonic() + seconds
    os.set_blocking(_FROM_PEER, False)

    def candidate(*args: Any) -> Any:
        try:
            write_message(_TO_PEER, {"args": [tag(a) for a in args]})
            reply = read_message(_FROM_PEER, deadline, max_bytes=max_bytes)
        except TimeoutError:
            raise CandidateError("the candidate gave no value in time") from None
        except (OSError, ValueError) as e:  # a closed pipe, a lying length, bad JSON
            raise CandidateError(f"the candidate broke the protocol: {e}") from None
        return _value_of(reply)

    return candidate


def _value_of(reply: Any) -> Any:
    """The value in the candidate's answer (from its process, or relayed by the host),
    decoded strictly: anything but a value is a CandidateError. Never the error that
    decoding raised: a test that expects, say, a ValueError from the candidate would
    take a malformed value for it."""
    if not isinstance(reply, dict):
        gone = reply is None
        raise CandidateError(
            "the candidate's process is gone" if gone else "the candidate sent a non-message"
        )
    if "e" in reply:
        raise CandidateError(str(reply["e"])[:500])
    try:
        return untag(reply["v"])
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
        raise CandidateError(f"the candidate sent no plain value: {e!r}"[:500]) from None


def serve_candidate() -> None:
    read_fd, write_fd = _control()
    request = read_message(read_fd)
    if request is None:
        return
    namespace: dict[str, Any] = {"__name__": "candidate"}
    try:
        exec(compile(request["prelude"], "prompt.py", "exec"), namespace)
        exec(compile(request["candidate"], "solution.py", "exec"), namespace)
        function = namespace[request["entry_point"]]
    except BaseException as e:
        write_message(write_fd, {"setup_error": f"{type(e).__name__}: {e}"[:500]})
        return
    write_message(write_fd, {"ready": True})
    if request.get("direct"):
        read_fd, write_fd = _FROM_PEER, _TO_PEER
    while True:
        message = read_message(read_fd)
        if message is None:
            return
        try:
            reply = {"v": tag(function(*[untag(a) for a in message["args"]]))}
        except BaseException as e:
            reply = {"e": f"{type(e).__name__}: {e}"[:500]}
        write_message(write_fd, reply)
