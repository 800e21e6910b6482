"""The function grader: right answers pass, and every known trick to pass without them
earns nothing. Run on every real sandbox backend, through a real zygote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from taskgym import ExecResult, Limits
from taskgym.envs.code.grader import FunctionCase, decode_value, grade_function, values_match
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.zygote import ProgramResult, Zygote

CASES = [FunctionCase(args=[a, b], expected=a + b) for a, b in [(2, 3), (10, -4), (0, 5), (7, 8)]]
RIGHT = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def zygote(real_box: Sandbox) -> Iterator[Zygote]:
    with Zygote(real_box) as z:
        yield z


def grade(zygote: Zygote, source: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    verdict = grade_function(zygote, source, "add", CASES, **kwargs)
    assert verdict.total == len(CASES)
    return verdict.passed, dict(verdict.details)


def test_a_right_solution_passes_every_case(zygote: Zygote) -> None:
    assert grade(zygote, RIGHT) == (4, {"failures": []})


def test_a_partly_right_solution_gets_partial_counts(zygote: Zygote) -> None:
    passed, details = grade(zygote, "def add(a, b):\n    return a + b if b > 0 else 0\n")
    assert passed == 3 and details["failures"] == [{"case": 1, "why": "wrong answer"}]


ATTACKS = {
    "wrong answer": "def add(a, b):\n    return a - b\n",
    "sys.exit(0) at import": "import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b\n",
    "os._exit(0) at import": "import os\nos._exit(0)\n",
    "raise SystemExit in the call": "def add(a, b):\n    raise SystemExit(0)\n",
    "os._exit(0) in the call": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "always-equal object": (
        "class Eq:\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def __hash__(self): return 0\n"
        "def add(a, b):\n    return Eq()\n"
    ),
    "int subclass that lies": (
        "class Liar(int):\n"
        "    def __eq__(self, other): return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return Liar(0)\n"
    ),
    "str subclass that lies": (
        "class Liar(str):\n    def __eq__(self, other): return True\n"
        "def add(a, b):\n    return Liar('x')\n"
    ),
    "True for every answer": "def add(a, b):\n    return True\n",
    "print a fake success report": (
        "print('4 passed, 0 failed')\nprint('ALL TESTS PASSED')\ndef add(a, b):\n    return None\n"
    ),
    "write fake results to the channel first": (
        "import os, json\n"
        "for i in range(4):\n"
        "    line = json.dumps({'i': i, 'passed': True, 'v': {'b': True}})\n"
        "    os.write(3, (line + '\\n').encode())\n"
        "def add(a, b):\n    return a - b\n"
    ),
    "garbage and unknown cases on the channel": (
        'import os\nos.write(3, b\'{"i": 99, "v": null}\\nnot json\\n[1]\\n\')\n'
        "def add(a, b):\n    return None\n"
    ),
    "patch the harness's encoder": (
        "import json\n"
        'json.dumps = lambda obj, *a, **k: \'{"i": 0, "v": {"b": true}, "passed": true}\'\n'
        "def add(a, b):\n    return a - b\n"
    ),
    "patch builtins": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.type = lambda *a: int\n"
        "def add(a, b):\n    return 'five'\n"
    ),
    "frame walk into the harness": (
        "import sys\n"
        "def add(a, b):\n"
        "    f = sys._getframe(1)\n"
        "    f.f_globals['tag'] = lambda v, depth=0: {'b': True}  # 'equal to anything'\n"
        "    return a - b\n"
    ),
    "kill the grader": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "catch BaseException around everything": (
        "def add(a, b):\n"
        "    try:\n        raise KeyboardInterrupt\n"
        "    except BaseException:\n        return 'caught'\n"
    ),
    "atexit report": (
        "import atexit, os\n"
        'atexit.register(lambda: os.write(3, b\'{"i": 0, "v": {"i": "5"}}\\n\'))\n'
        "def add(a, b):\n    return a - b\n"
    ),
    "__del__ report": (
        "import os\n"
        "class Ghost:\n"
        '    def __del__(self): os.write(3, b\'{"i": 1, "v": {"i": "6"}}\\n\')\n'
        "keep = Ghost()\n"
        "def add(a, b):\n    return a - b\n"
    ),
    "endless loop": "def add(a, b):\n    while True:\n        pass\n",
    "crash the interpreter": "import ctypes\ndef add(a, b):\n    return ctypes.string_at(0)\n",
    "huge answer": "def add(a, b):\n    return [0] * 10**7\n",
    "generator instead of a value": "def add(a, b):\n    yield a + b\n",
    "syntax error": "def add(a, b)\n    return a + b\n",
    "no such function": "def plus(a, b):\n    return a + b\n",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_earns_nothing(zygote: Zygote, attack: str) -> None:
    limits = Limits(wall_seconds=2.0, cpu_seconds=2, memory_bytes=256 * 1024**2)
    passed, _ = grade(zygote, ATTACKS[attack], limits=limits)
    assert passed == 0, attack
    assert grade(zygote, RIGHT)[0] == 4  # the grader is unharmed for the next solution


def test_the_expected_values_never_enter_the_sandbox() -> None:
    sent: list[str] = []

    class Recording:
        def run(self, code: str, *, stdin: str, limits: Any, channel: bool) -> ProgramResult:
            sent.append(stdin)
            return ProgramResult(ExecResult(exit_code=0), channel=b"")

    cases = [FunctionCase(args=["needle"], expected="SECRET-EXPECTED-VALUE")]
    grade_function(Recording(), RIGHT, "add", cases)  # type: ignore[arg-type]
    assert sent and "SECRET-EXPECTED-VALUE" not in sent[0]
    assert json.loads(sent[0])["args"] == [["needle"]]


def test_details_say_why_each_case_failed(zygote: Zygote) -> None:
    source = "def add(a, b):\n    if a == 2: raise ValueError('no twos')\n    return 0\n"
    _, details = grade(zygote, source)
    assert details["failures"][0] == {"case": 0, "why": "raised ValueError: no twos"}
    assert details["failures"][1] == {"case": 1, "why": "wrong answer"}
    _, timed = grade(zygote, ATTACKS["endless loop"], limits=Limits(wall_seconds=0.5))
    assert timed["problem"] == "it ran out of time"


@pytest.mark.parametrize(
    ("expected", "got", "match"),
    [
        (5, 5, True),
        (5, 5.0, True),
        (0.1 + 0.2, 0.3, True),
        (1, True, False),
        (True, 1, False),
        ("5", 5, False),
        ([1, [2, 3]], (1, (2, 3)), True),
        ([1, 2], [1, 2, 3], False),
        ({"a": 1}, {"a": 1}, True),
        ({"1": 1}, {1: 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        (None, None, True),
        (None, 0, False),
        (float("nan"), float("nan"), True),
    ],
)
def test_values_match_like_json_but_bool_is_not_a_number(
    expected: Any, got: Any, match: bool
) -> None:
    assert values_match(expected, got) is match


def test_decode_rejects_anything_the_harness_would_not_send() -> None:
    from taskgym.envs.code.grader import _Malformed

    assert decode_value({"t": [{"i": "1"}, {"s": "x"}]}) == (1, "x")
    for bad in ({"i": 5}, {"i": "1e9"}, {"x": 1}, [1], {"b": 1}, {"i": "9" * 6000}):
        with pytest.raises(_Malformed):
            decode_value(bad)
