"""What comes back from the sandbox is data: a forged line on the function harness's
channel, a value the host cannot convert, a message nested past the interpreter's limit,
earns zero and never raises. Each ran on every real backend; these broke through once
(the step raised CheckerError): JSON nested a hundred thousand deep, a JSON number and a
tagged int past Python's 4,300-digit limit (the candidate may lift its own), an int of
Unicode digits, dict items that are not pairs, a float compared with a huge int, and a
message nested near the limit relayed through a host whose stack was deeper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest

from taskgym.envs.code.grader import (
    FunctionCase,
    _Malformed,
    decode_value,
    grade_assert_tests,
    grade_function,
    values_match,
)
from taskgym.sandboxes import Limits, Sandbox
from taskgym.sandboxes.zygote import Zygote
from tests.conftest import REAL_BACKENDS, require_backend

CASES = [FunctionCase(args=[a, b], expected=a + b) for a, b in [(2, 3), (10, -4)]]
RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


def _forging(line: str) -> str:
    """A wrong answer that first writes ``line`` (Python bytes source) to the channel."""
    return f"import os, sys\nos.write(3, {line} + b'\\n')\n{WRONG}"


RESULT = 'b\'{"i": 0, "v": \''  # the start of a result line for case 0, as source
FORGED_LINES = {
    "JSON nested past the limit": "b'[' * 100000",
    "a result nested past the limit": f"{RESULT} + b'[' * 100000",
    "a JSON number past the digit limit": (  # beside the right value for case 0
        f"{RESULT} + b'{{\"i\": \"5\"}}, \"x\": ' + b'1' * 5000 + b'}}'"
    ),
    "a tagged int past the digit limit": f"{RESULT} + b'{{\"i\": \"' + b'5' * 4400 + b'\"}}}}'",
    "a tagged int of Unicode digits": f"{RESULT} + '{{\"i\": \"\u00b2\"}}}}'.encode()",
    "a tagged int with two signs": f"{RESULT} + b'{{\"i\": \"--5\"}}}}'",
    "dict items that are not pairs": f"{RESULT} + b'{{\"d\": [[1], 5]}}}}'",
    "a float too large for a float": f"{RESULT} + b'{{\"f\": ' + b'9' * 4000 + b'}}}}'",
    "a complex of lists": f"{RESULT} + b'{{\"c\": [[], {{}}]}}}}'",
    "an error that is not text": "b'{\"i\": 0, \"e\": ' + b'[' * 900 + b']' * 900 + b'}'",
    "a setup error that is not text": "b'{\"setup_error\": {\"a\": [1, 2, 3]}}'",
    "a result for every index, of every kind": (
        "b'\\n'.join(b'{\"i\": %d, \"v\": {\"%s\": 5}}' % (i, k)"
        " for i in range(2) for k in (b'i', b'f', b's', b'c', b'd', b'l', b'S', b't', b'b'))"
    ),
}  # fmt: skip

# Values a candidate returns after lifting its own digit limit: the harness sends them,
# and the host must not choke on them.
HUGE_RETURNS = {
    "a huge int": "return 10 ** 4400",
    "a huge negative int": "return -(10 ** 4400)",
    "a huge int as a dict key": "return {10 ** 4400: 1}",
    "a huge int in a list": "return [1, 10 ** 4400]",
    "a huge int where a float is expected": "return 10 ** 400",  # isclose overflows
}


@pytest.fixture
def zygote(real_box: Sandbox) -> Iterator[Zygote]:
    with Zygote(real_box) as z:
        yield z


def _passed(zygote: Zygote, source: str, cases: list[FunctionCase] = CASES) -> int:
    limits = Limits(wall_seconds=3.0, cpu_seconds=3)
    return grade_function(zygote, source, "add", cases, limits=limits, show_values=True).passed


@pytest.mark.parametrize("forged", list(FORGED_LINES))
def test_a_forged_channel_line_earns_nothing_and_raises_nothing(
    zygote: Zygote, forged: str
) -> None:
    assert _passed(zygote, _forging(FORGED_LINES[forged])) == 0
    assert _passed(zygote, RIGHT) == len(CASES)  # and the grader is unharmed


@pytest.mark.parametrize("huge", list(HUGE_RETURNS))
def test_a_value_past_the_hosts_digit_limit_earns_nothing(zygote: Zygote, huge: str) -> None:
    source = (
        f"import sys\nsys.set_int_max_str_digits(0)\ndef add(a, b):\n    {HUGE_RETURNS[huge]}\n"
    )
    floats = [FunctionCase(args=[0.5, 2], expected=2.5)]
    assert _passed(zygote, source) == 0 and _passed(zygote, source, floats) == 0


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_an_episode_with_a_forged_channel_ends_in_zero_not_an_error(backend: str) -> None:
    require_backend(backend)
    forge = (
        "import os, sys\nsys.set_int_max_str_digits(0)\n"
        "os.write(3, b'[' * 100000 + b'\\n')\n"
        "os.write(3, b'{\"i\": 0, \"v\": {\"i\": \"' + b'7' * 4400 + b'\"}}\\n')\n"
        "def reverse_words(s):\n    return 10 ** 4400\n"
    )  # fmt: skip
    env = gym.make("taskgym/CodeTestsRetry-v0", sandbox=backend)
    try:
        env.reset(options={"task_id": "reverse-words"})
        observation, reward, terminated, _, _ = env.step(f"```python\n{forge}```")
        assert not terminated and "examples failed" in observation  # the visible run
        for _ in range(2):
            _, reward, terminated, _, info = env.step(f"```python\n{forge}```")
        assert terminated and reward == 0.0 and info["verdict"]["passed"] == 0
    finally:
        env.close()


def test_decoding_and_comparing_reject_what_the_harness_never_sends() -> None:
    for bad in (
        {"i": "1" * 4400}, {"i": "\u00b2"}, {"i": "-"}, {"i": "--5"}, {"i": " 5"},
        {"f": 10**4000}, {"f": [1]}, {"f": True}, {"c": [10**4000, 0]}, {"c": ["1", []]},
        {"d": [[{"i": "1"}]]}, {"d": [5]}, {"d": [[{"l": []}, None]]}, [1], {"x": 1},
    ):  # fmt: skip
        with pytest.raises(_Malformed):
            decode_value(bad)
    assert decode_value({"i": "-" + "9" * 4300}) == -int("9" * 4300)
    assert values_match(2.5, 10**400) is False and values_match(10**400, 1e400) is False


DIRECT_AND_RELAYED = [True, False]


@pytest.mark.parametrize("direct", DIRECT_AND_RELAYED)
@pytest.mark.parametrize("depth", [950, 990])
def test_a_message_nested_near_the_limit_is_a_failed_call_not_an_error(
    real_box: Sandbox, direct: bool, depth: int
) -> None:
    """Written on every descriptor the candidate holds: relayed, the host reads it (one
    of 950 levels broke a host whose stack was 100 frames deep)."""
    candidate = (
        "import os, struct\n"
        f"body = b'{{\"v\": ' + b'[' * {depth} + b']' * {depth} + b'}}'\n"
        "message = struct.pack('>I', len(body)) + body\n"
        "def square(x):\n"
        "    for fd in range(3, 12):\n"
        "        try: os.write(fd, message)\n"
        "        except OSError: pass\n"
        "    return x * x\n"
    )

    def graded(frames: int) -> Any:
        if frames:
            return graded(frames - 1)
        test = "def check(candidate):\n    assert candidate(2) == 4\n"
        return grade_assert_tests(
            real_box, candidate, prelude="", test=test, entry_point="square",
            call="check(square)", seconds=3.0, direct=direct,
        )  # fmt: skip

    for frames in (0, 100, 400):
        assert not graded(frames).solved


@pytest.mark.parametrize("direct", DIRECT_AND_RELAYED)
def test_a_setup_error_that_is_not_text_fails_the_answer(real_box: Sandbox, direct: bool) -> None:
    forged = json.dumps({"setup_error": [[[[1]]]] * 1000})
    candidate = (
        "import os, struct\n"
        f"body = {forged.encode()!r}\n"
        "for fd in range(3, 12):\n"
        "    try: os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "    except OSError: pass\n"
        "def square(x):\n    return x + x\n"
    )
    verdict = grade_assert_tests(
        real_box, candidate, prelude="", test="assert square(3) == 9\n", entry_point="square",
        call="pass", seconds=3.0, direct=direct,
    )  # fmt: skip
    assert not verdict.solved
