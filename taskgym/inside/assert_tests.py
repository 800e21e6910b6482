"""The two programs behind assert-style grading, run inside the sandbox (each is sent
after :mod:`.wire`, :mod:`.values` and :mod:`.session_program`).

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

import os
import time
import traceback
from typing import Any

# Inside the sandbox these imports are replaced by the modules' sources (see
# taskgym.sandboxes.compose).
from taskgym.inside.session_program import control_pipes, private_control_pipes
from taskgym.inside.values import tag, untag
from taskgym.inside.wire import read_message, write_message


class CandidateError(Exception):
    """The candidate raised (or is gone); the message says how."""


def run_tests() -> None:
    read_fd, write_fd = private_control_pipes()
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
    read_fd, write_fd = control_pipes()
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
