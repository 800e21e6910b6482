"""MBPP through taskgym, against the real data set in ../shared/data (InterCode's form)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from taskgym import ConfigError
from taskgym.envs.code.mbpp import grade_mbpp, load_mbpp
from taskgym.sandboxes import make_sandbox

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mbpp_intercode.json"
needs_data = pytest.mark.skipif(
    not DATA.exists(), reason=f"MBPP is read from {DATA}, which is absent (no ../shared)"
)

# References that pass their own asserts in one interpreter but cannot be graded across a
# value-only boundary (docs/code-tasks.md): the asserts hand the solution objects of its
# own classes, or compare what cannot cross as a value.
UNSUPPORTED = {
    "mbpp-367": "the asserts pass trees of the solution's own Node class",
    "mbpp-927": "the asserts pass trees of the solution's own Node class",
    "mbpp-601": "the asserts pass objects of the solution's own Pair class",
    "mbpp-533": "the function returns a type object, not a value",
}


def passes_plainly(record: dict[str, Any]) -> tuple[bool, str]:
    program = "\n".join([record["reference"], record["setup"], *record["tests"]]) + "\n"
    try:
        done = subprocess.run(
            ["/usr/bin/python3", "-c", program], capture_output=True, text=True, timeout=30,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False, "timed out"
    last = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
    return done.returncode == 0, last[0]


@needs_data
@pytest.mark.slow
def test_every_reference_that_passes_plainly_earns_one_here() -> None:
    records = load_mbpp(DATA)
    assert len(records) == 974
    plain_failures = {}
    failures = {}
    with make_sandbox("auto") as box:
        for record in records:
            ok, why = passes_plainly(record)
            if not ok:
                plain_failures[record["task_id"]] = why
                continue
            verdict = grade_mbpp(box, record, record["reference"], seconds=30)
            if not verdict.solved:
                failures[record["task_id"]] = verdict.details.get("failure")
    assert plain_failures == {}, plain_failures  # reported, with the reason, if any appear
    assert set(failures) == set(UNSUPPORTED), failures


@needs_data
def test_the_env_plays_mbpp_and_a_wrong_answer_fails() -> None:
    env = gym.make("taskgym/MBPP-v0", tasks=str(DATA))
    for task_id in ("mbpp-1", "mbpp-912", "mbpp-596"):  # 912: int(f(...)); 596: uses sys
        env.reset(options={"task_id": task_id})
        _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
        assert reward == 1.0, task_id
    obs, _ = env.reset(options={"task_id": "mbpp-1"})
    assert "assert min_cost(" in obs
    _, reward, _, _, info = env.step("```python\ndef min_cost(cost, m, n):\n    return 0\n```")
    assert reward == 0.0 and "AssertionError" in info["verdict"]["details"]["failure"]
    env.close()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"query": "q", "gold": "x", "tests": []}, "needs query/text"),
        ({"query": "q", "gold": "x", "tests": ["assert f(1) == g(2)"]}, "call one function"),
        ({"query": "q", "gold": "x", "tests": ["assert f(1 =="]}, "not Python"),
        ({"text": "q", "code": "x", "test_list": [3]}, "lines of Python"),
    ],
)
def test_bad_mbpp_files_say_what_is_wrong(tmp_path: Path, raw: Any, message: str) -> None:
    path = tmp_path / "mbpp.json"
    path.write_text(json.dumps([raw]))
    with pytest.raises(ConfigError, match=message):
        load_mbpp(path)


def test_original_mbpp_jsonl_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "mbpp.jsonl"
    record = {
        "task_id": 7,
        "text": "Double it.",
        "code": "def f(x):\n    return 2 * x",
        "test_list": ["assert f(2) == 4", "assert int(f(1)) == 2"],
        "test_setup_code": "",
    }
    path.write_text(json.dumps(record) + "\n")
    (loaded,) = load_mbpp(path)
    assert loaded["task_id"] == "mbpp-7" and loaded["entry_point"] == "f"


STDLIB_VALUES = """
import collections
def f(kind):
    return {
        "set": {1, 2, 3},
        "frozenset": frozenset("ab"),
        "counter": collections.Counter("aab"),
        "complex": complex(1, -2),
        "nested": [({1}, collections.OrderedDict(a=1))],
    }[kind]
"""

STDLIB_TESTS = [
    "assert f('set') == {3, 2, 1}",
    "assert f('frozenset') == frozenset({'a', 'b'})",
    "assert f('counter') == {'a': 2, 'b': 1}",
    "assert f('complex') == 1-2j",
    "assert f('nested') == [({1}, {'a': 1})]",
]


def test_sets_counters_and_complex_numbers_cross_the_boundary() -> None:
    record = {"imports": "", "setup": "", "tests": STDLIB_TESTS, "entry_point": "f"}
    with make_sandbox("auto") as box:
        verdict = grade_mbpp(box, record, STDLIB_VALUES)
        assert verdict.solved, verdict.details
        lying_set = "class S(set):\n    def __eq__(self, o): return True\n"
        lying_set += "def f(kind):\n    return S()\n"
        verdict = grade_mbpp(box, {**record, "tests": STDLIB_TESTS[:1]}, lying_set)
        assert not verdict.solved and "not a plain value" in str(verdict.details)


def test_a_forged_set_of_unhashable_items_is_malformed_not_a_crash() -> None:
    from taskgym.envs.code.grader import _Malformed, decode_value

    assert decode_value({"F": [{"s": "a"}]}) == frozenset({"a"})
    with pytest.raises(_Malformed):
        decode_value({"S": [{"l": []}]})
    with pytest.raises(_Malformed):
        decode_value({"c": ["1", "nope"]})
