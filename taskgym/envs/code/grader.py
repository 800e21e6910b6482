"""Grading a function by calling it on test inputs, with the verdict decided on the
trusted side of a process boundary.

The design (the one, of those measured, that rejected all fourteen known attacks on
graders: see ``docs/code-tasks.md``):

- the candidate runs in a sandbox, in a zygote child, under
  :mod:`taskgym.inside.harness`, which receives the inputs only; the expected
  values never enter the sandbox, so reading "the hidden tests" from disk or memory
  finds nothing to copy;
- the harness sends back plain, exactly-typed values on a dedicated channel (fd 3);
  exit status and stdout are ignored, so ``sys.exit(0)``, ``os._exit(0)``, a fake
  "all tests passed" or an ``atexit`` report change nothing;
- this module decodes those values strictly (an always-equal object or an ``int``
  subclass cannot be encoded, so it arrives as an error) and compares them itself;
- a time-out, a crash, a killed grader, a missing, repeated, malformed or truncated
  result all count as failures.

Examples:
    >>> from taskgym.sandboxes import make_sandbox
    >>> from taskgym.sandboxes.zygote import Zygote
    >>> from taskgym.envs.code.grader import FunctionCase, grade_function
    >>> with make_sandbox("local") as box, Zygote(box) as zygote:
    ...     cases = [FunctionCase(args=[2, 3], expected=5)]
    ...     grade_function(zygote, "def add(a, b):\\n    return a + b\\n", "add", cases).solved
    True
"""

from __future__ import annotations

import json
import math
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.core import Verdict
from taskgym.envs.common.programs import HARNESS_SOURCE, in_sandbox_program
from taskgym.errors import SandboxError
from taskgym.sandboxes.base import Limits, Sandbox
from taskgym.sandboxes.zygote import (
    Opening,
    PeerError,
    Zygote,
    ZygoteSession,
    pair_zygotes,
    paired,
    sessions,
    zygote_for,
)

__all__ = [
    "FunctionCase",
    "decode_value",
    "grade_assert_tests",
    "grade_function",
    "values_match",
]

_MAX_REPORTED_FAILURES = 20


@dataclass(frozen=True)
class FunctionCase:
    """One call: positional ``args`` (JSON values) and the ``expected`` return value.

    Values compare as JSON would see them (a tuple equals a list with the same items),
    except that ``True`` is never ``1``, and floats match within ``rel_tol``/``abs_tol``.
    """

    args: Sequence[Any]
    expected: Any
    rel_tol: float = 1e-9
    abs_tol: float = 0.0


class _Malformed(Exception):
    """A value on the channel that is not a well-formed tagged value."""


def decode_value(tagged: Any, depth: int = 0) -> Any:  # noqa: PLR0911, PLR0912 - one a type
    """A tagged value from the harness back to a plain Python value (exact types);
    _Malformed for anything the harness would never send."""
    if depth > 64:
        raise _Malformed("nested too deeply")
    if tagged is None:
        return None
    if not isinstance(tagged, dict) or len(tagged) != 1:
        raise _Malformed(f"not a tagged value (a {type(tagged).__name__})")
    ((kind, body),) = tagged.items()
    if kind == "b" and type(body) is bool:
        return body
    if kind == "i" and type(body) is str:
        return _integer(body)
    if kind == "f" and (type(body) in (int, float) or body in ("inf", "-inf", "nan")):
        return _float(body)
    if kind == "s" and type(body) is str:
        return body
    if kind == "c" and type(body) is list and len(body) == 2:
        return complex(_float(body[0]), _float(body[1]))
    if kind in ("l", "t") and type(body) is list:
        items = [decode_value(item, depth + 1) for item in body]
        return items if kind == "l" else tuple(items)
    if kind in ("S", "F") and type(body) is list:
        try:
            members = {decode_value(item, depth + 1) for item in body}
        except TypeError as e:  # an unhashable item
            raise _Malformed(str(e)) from e
        return members if kind == "S" else frozenset(members)
    if kind == "d" and type(body) is list:
        if not all(type(pair) is list and len(pair) == 2 for pair in body):
            raise _Malformed("a dict's items are not pairs")
        pairs = [(decode_value(k, depth + 1), decode_value(v, depth + 1)) for k, v in body]
        try:
            return dict(pairs)
        except TypeError as e:  # an unhashable key
            raise _Malformed(str(e)) from e
    raise _Malformed(f"bad tagged value of kind {kind!r}"[:80])


def _float(body: Any) -> float:
    """A float as the harness wrote it (a JSON number, or repr() of one in a string)."""
    if type(body) not in (int, float, str):
        raise _Malformed(f"a float that is a {type(body).__name__}")
    try:
        return float(body)
    except (ValueError, OverflowError) as e:  # an int too large for a float
        raise _Malformed(str(e)[:80]) from e


def _integer(text: str) -> int:
    """The int the harness wrote as ``str(n)``: ASCII digits after an optional minus, no
    more of them than this interpreter converts (the candidate may lift its own limit;
    ``int()`` here would then raise ValueError)."""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise _Malformed("an int that is not decimal digits")
    if len(digits) > (_int_digits_limit() or _MAX_INT_DIGITS):
        raise _Malformed(f"an int of {len(digits)} digits")
    return int(text)


# Python's own limit on int <-> str conversions (3.10.7 and later); without one, a cap.
_MAX_INT_DIGITS = 4300


def _int_digits_limit() -> int:
    limit: int = getattr(sys, "get_int_max_str_digits", lambda: _MAX_INT_DIGITS)()
    return limit


def values_match(  # noqa: PLR0911 - one return a type
    expected: Any, got: Any, rel_tol: float = 1e-9, abs_tol: float = 0.0
) -> bool:
    """Whether ``got`` (decoded, exact types) is the ``expected`` JSON value."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return _numbers_match(expected, got, rel_tol, abs_tol)
    if isinstance(expected, str) or isinstance(got, str):
        return type(expected) is type(got) and expected == got
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(expected) == len(got) and all(
            values_match(e, g, rel_tol, abs_tol) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        keys = {str(k) for k in got}
        return (
            len(keys) == len(got) == len(expected)
            and keys == set(expected)
            and all(values_match(expected[str(k)], v, rel_tol, abs_tol) for k, v in got.items())
        )
    return False


def _numbers_match(expected: float, got: float, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(expected, int) and isinstance(got, int):
        return expected == got
    try:
        close = math.isclose(expected, got, rel_tol=rel_tol, abs_tol=abs_tol)
        if isinstance(expected, int):
            # A float for an int must round to it: within 1e-9 of a large int, an answer
            # off by one, made a float, would pass.
            return close and round(got) == expected
        return close or (math.isnan(expected) and math.isnan(got))
    except OverflowError:  # an int too large for a float is no float's match
        return False


def grade_function(
    zygote: Zygote,
    source: str,
    entry_point: str,
    cases: Sequence[FunctionCase],
    *,
    limits: Limits | None = None,
    show_values: bool = False,
) -> Verdict:
    """Call ``entry_point`` from ``source`` on every case in one sandboxed run and
    compare the results here. The verdict's details say which cases failed and why,
    by index only; ``show_values`` adds what was returned, for cases the agent may see."""
    if not cases:
        raise ValueError("grade_function needs at least one case")
    request = {"source": source, "entry_point": entry_point, "args": [list(c.args) for c in cases]}
    result = zygote.run(HARNESS_SOURCE, stdin=json.dumps(request), limits=limits, channel=True)
    results, problem = _read_channel(result.channel, len(cases))
    if problem is None and result.channel_truncated:
        problem = "its results were cut off (too large)"
    if problem is None and result.execution.timed_out:
        problem = "it ran out of time"
    failures: list[dict[str, Any]] = []
    passed = 0
    for index, case in enumerate(cases):
        line = results.get(index)
        why = _judge(case, line)
        if why is None:
            passed += 1
        elif len(failures) < _MAX_REPORTED_FAILURES:
            failure: dict[str, Any] = {"case": index, "why": why}
            if show_values and why == "wrong answer":
                failure["got"] = _shown(line)
            failures.append(failure)
    details: dict[str, Any] = {"failures": failures}
    if problem is not None:
        details["problem"] = problem
    if result.lost:
        details["problem"] = "it killed the grader"
    return Verdict(parsed=True, passed=passed, total=len(cases), details=details)


def _read_channel(channel: bytes, count: int) -> tuple[dict[int, Any], str | None]:
    """Each case's line from the channel (the first one for each index). A setup error
    or a malformed line is reported as the run's problem."""
    results: dict[int, Any] = {}
    problem = None
    for raw in channel.decode("utf-8", errors="replace").splitlines():
        try:
            line = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, an int past the digit limit, nesting
            problem = problem or "it wrote something that is not a result"
            continue
        if not isinstance(line, dict):
            problem = problem or "it wrote something that is not a result"
            continue
        if "setup_error" in line:
            return {}, f"the solution did not load: {_text(line['setup_error'], 300)}"
        index = line.get("i")
        if type(index) is not int or not 0 <= index < count or index in results:
            problem = problem or "it wrote results for cases that do not exist, or twice"
            continue
        results[index] = line
    return results, problem


def _shown(line: Any) -> str:
    """A returned value as the agent may read it (JSON, with tuples as lists)."""
    try:
        return json.dumps(decode_value(line["v"]))[:300]
    except (_Malformed, TypeError, ValueError):
        return "(a value that cannot be shown)"


def _judge(case: FunctionCase, line: Any) -> str | None:
    """None if the case passed, else why it did not."""
    if line is None:
        return "no result"
    if "e" in line:
        return f"raised {_text(line['e'], 200)}"
    if "v" not in line:
        return "no result"
    try:
        got = decode_value(line["v"])
    except _Malformed as e:
        return f"malformed result ({e})"
    if values_match(case.expected, got, case.rel_tol, case.abs_tol):
        return None
    return "wrong answer"


def _text(value: Any, limit: int) -> str:
    """A message from inside the sandbox, as text of at most ``limit`` characters; only
    a string is text (str() of anything else sent there could be huge or nested)."""
    return value[:limit] if type(value) is str else "(a message that is not text)"


_TEST_RUNNER_SOURCE = in_sandbox_program("run_tests", "assert_tests")
_CANDIDATE_SOURCE = in_sandbox_program("serve_candidate", "assert_tests")


def grade_assert_tests(
    sandbox: Sandbox,
    candidate: str,
    *,
    prelude: str,
    test: str,
    entry_point: str,
    call: str = "check(candidate)",
    seconds: float = 10.0,
    direct: bool = True,
) -> Verdict:
    """Run assert-style ``test`` code (``call`` starts it, after ``prelude``, the task's
    own imports and helpers) against ``candidate``, in two programs of ``sandbox``: the
    tests see plain values from the candidate, and the candidate never holds the tests.
    One check: passed or not; only the tests' own report, read by this process, counts.

    Each program is a child of a zygote of its own (``zygote_for(sandbox, "tests")`` and
    ``"candidates"``): the candidates' zygote never receives test code, so nothing a
    candidate inherits holds any; in bwrap the two are in different pid namespaces.
    With ``direct`` (the default) the two zygotes are paired and the tests call the
    candidate over a channel of the two programs' own, which carries what this process
    would relay (arguments one way, tagged values the other) without the four hops
    through it a call; if the pairing is lost, the calls are relayed."""
    deadline = time.monotonic() + seconds
    limits = sandbox.limits.replace(wall_seconds=seconds, cpu_seconds=max(1, math.ceil(seconds)))
    testing = zygote_for(sandbox, "tests")
    answering = zygote_for(sandbox, "candidates")
    job = _AssertJob(prelude, test, entry_point, call, candidate, limits, deadline)
    if direct and (paired(testing, answering) or pair_zygotes(testing, answering)):
        try:
            return job.grade(testing, answering, direct=True)
        except PeerError:
            pass  # restarted since they were paired: relayed this time, paired next time
    return job.grade(testing, answering, direct=False)


@dataclass(frozen=True)
class _AssertJob:
    prelude: str
    test: str
    entry_point: str
    call: str
    candidate: str
    limits: Limits
    deadline: float

    def grade(self, testing: Zygote, answering: Zygote, *, direct: bool) -> Verdict:
        """Both programs started at once, the tests with their first message. The
        candidate's code goes in a message of its own, never with the opening: its
        function may run as soon as it is loaded (the tests call it directly), and what
        it does then (kill its zygote) must fail this grading, not the opening. It goes
        only after the tests said ``ready`` (non-dumpable by then), so no candidate code
        runs beside a test process it could still read. Direct, the tests then call it
        without this process."""
        remaining = max(self.deadline - time.monotonic(), 0.0)
        task: dict[str, Any] = {
            "prelude": self.prelude,
            "test": self.test,
            "entry_point": self.entry_point,
            "call": self.call,
        }
        give: tuple[str, str] | None = None
        take: tuple[str, str] | None = None
        if direct:
            task |= {"direct": True, "seconds": remaining, "max_bytes": self.limits.output_bytes}
            token = secrets.token_hex(8)
            give, take = ("give", token), ("take", token)
        openings = (
            Opening(
                testing,
                _TEST_RUNNER_SOURCE,
                limits=self.limits,
                peer=give,
                first=task,
                wait=remaining,
            ),
            Opening(
                answering,
                _CANDIDATE_SOURCE,
                limits=self.limits,
                peer=take,
            ),
        )
        # Nothing else in the sandbox is touched before the zygotes' next use, so their
        # cleanup may overlap the caller's work (see sessions).
        with sessions(*openings, settle_later=True) as (tests, solution):
            if tests.first != {"ready": True}:
                raise SandboxError(f"the test process did not start: {tests.first_why}")
            code = {
                "prelude": self.prelude,
                "candidate": self.candidate,
                "entry_point": self.entry_point,
                "direct": direct,
            }
            loaded, why = solution.exchange(code, self.deadline)
            if loaded is None or "setup_error" in loaded:
                reason = _text(loaded["setup_error"], 500) if loaded else why
                return _failed(f"the solution did not load: {reason}")
            if direct:
                report, why = tests.exchange(None, self.deadline)
                verdict = _report(report, why)
                return verdict if verdict is not None else _failed("the tests sent a call")
            return _relay(tests, solution, self.deadline)


def _failed(why: str) -> Verdict:
    return Verdict(parsed=True, passed=0, total=1, details={"failure": why[:500]})


def _report(message: dict[str, Any] | None, why: str) -> Verdict | None:
    """The verdict in the tests' last message, or None for a call to relay."""
    if message is None:
        return _failed(f"the tests did not finish: {why}")
    if message == {"passed": True}:
        return Verdict(parsed=True, passed=1, total=1)
    if "failed" in message:
        return _failed(_text(message["failed"], 500))
    if "call" not in message:
        return _failed("the tests sent something unexpected")
    return None


def _relay(tests: ZygoteSession, solution: ZygoteSession, deadline: float) -> Verdict:
    """Carry the tests' calls to the candidate and its values back, until the tests say
    how it went. Only the tests' own report counts; anything else is a failure."""
    message, why = tests.exchange(None, deadline)
    while True:
        verdict = _report(message, why)
        if verdict is not None:
            return verdict
        assert message is not None  # a call
        reply, why = solution.exchange({"args": message["call"]}, deadline)
        if reply is None:
            reply = {"e": f"the candidate gave no value: {why}"}
        message, why = tests.exchange(reply, deadline)
