"""A red team's attacks on the code family's graders, each from an answer's text alone,
on every real backend. The attacks of tests/test_code_grader.py, test_assert_channel.py,
test_humaneval.py, test_code_stdio.py and test_code_project.py are not repeated here.

Two broke through before they were fixed: a float for a large int answer, off by one,
passed within the relative tolerance of 1e-9; and, when assert-style calls were relayed
by the host, a malformed value from the candidate raised a ValueError inside the tests,
where a test that expected the candidate to raise one took it for a pass."""

from __future__ import annotations

import contextlib
import subprocess
import textwrap
import time
from collections.abc import Iterator

import gymnasium as gym
import pytest

from taskgym.envs.code.grader import FunctionCase, grade_assert_tests, grade_function
from taskgym.envs.code.stdio import StdioCase, grade_program
from taskgym.sandboxes import Limits, Sandbox
from taskgym.sandboxes.zygote import Zygote
from tests.conftest import require_pytest_in

CASES = [FunctionCase(args=[a, b], expected=a + b) for a, b in [(2, 3), (10, -4), (10**12, 7)]]
RIGHT = "def add(a, b):\n    return a + b\n"
LIMITS = Limits(wall_seconds=2.0, cpu_seconds=2, memory_bytes=256 * 1024**2)

# Each is wrong on every case unless its trick works.
FUNCTION_ATTACKS = {
    "a float for a large int, off by one": "def add(a, b):\n    return float(a + b + 1)\n",
    "NaN for every answer": "def add(a, b):\n    return float('nan')\n",
    "every descriptor closed at import": "import os\nos.closerange(0, 1024)\n" + RIGHT,
    "stdout moved onto the channel, then a report printed": (
        "import json, os\nos.dup2(1, 3)\n"
        "for i in range(3):\n    print(json.dumps({'i': i, 'v': {'i': '5'}}))\n" + RIGHT
    ),
    "a child that writes results after the harness": (
        "import json, os, time\n"
        "if os.fork() == 0:\n"
        "    time.sleep(0.3)\n"
        "    for i in range(3):\n"
        "        os.write(3, (json.dumps({'i': i, 'v': {'i': '5'}}) + '\\n').encode())\n"
        "    os._exit(0)\n"
        "def add(a, b):\n    return a - b\n"
    ),
    "a BaseException whose message raises": (
        "class Boom(BaseException):\n"
        "    def __str__(self):\n        raise SystemExit(0)\n"
        "def add(a, b):\n    raise Boom()\n"
    ),
    "a KeyboardInterrupt from a timer inside the harness": (
        "import signal\n"
        "def stop(*_):\n    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGALRM, stop)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)\n"
        "def add(a, b):\n    return a - b\n"
    ),
    "os.write and json patched to report passes": (
        "import json, os\n"
        "real = os.write\n"
        'os.write = lambda fd, data: real(fd, b\'{"i": 0, "passed": true}\\n\')\n'
        'json.dumps = lambda *a, **k: \'{"i": 1, "passed": true, "ok": true}\'\n'
        "def add(a, b):\n    return None\n"
    ),
    "an object that says its class is int": (
        "class Fake:\n"
        "    __class__ = property(lambda self: int)\n"
        "    def __eq__(self, other): return True\n"
        "    __hash__ = object.__hash__\n"
        "def add(a, b):\n    return Fake()\n"
    ),
    "an object whose repr and str are the answer": (
        "class Shown:\n"
        "    def __init__(self, v): self.v = v\n"
        "    def __repr__(self): return repr(self.v)\n"
        "    __str__ = __repr__\n"
        "def add(a, b):\n    return Shown(a + b)\n"
    ),
    "a float subclass equal to everything": (
        "class F(float):\n"
        "    def __eq__(self, other): return True\n"
        "    __hash__ = float.__hash__\n"
        "def add(a, b):\n    return F(0)\n"
    ),
    "a list that holds itself": "def add(a, b):\n    x = []\n    x.append(x)\n    return x\n",
    "a list nested ten thousand deep": (
        "def add(a, b):\n    x = []\n    for _ in range(10000):\n        x = [x]\n    return x\n"
    ),
    "recursion without end": "def add(a, b):\n    return add(a, b)\n",
    "a string of 2 MiB": "def add(a, b):\n    return 'x' * (2 << 20)\n",
    "the verdict's shape returned": (
        "def add(a, b):\n    return {'passed': True, 'solved': True, 'total': 3}\n"
    ),
}


@pytest.fixture
def zygote(real_box: Sandbox) -> Iterator[Zygote]:
    with Zygote(real_box) as z:
        yield z


@pytest.mark.parametrize("attack", list(FUNCTION_ATTACKS))
def test_a_function_attack_earns_nothing(zygote: Zygote, attack: str) -> None:
    verdict = grade_function(zygote, FUNCTION_ATTACKS[attack], "add", CASES, limits=LIMITS)
    assert verdict.passed == 0, (attack, verdict.details)
    assert grade_function(zygote, RIGHT, "add", CASES, limits=LIMITS).solved


@pytest.mark.slow  # the grader's reply is awaited for the time limit and a margin
def test_a_stopped_grader_fails_the_answer_within_its_time(zygote: Zygote) -> None:
    stop = "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n" + RIGHT
    start = time.monotonic()
    assert grade_function(zygote, stop, "add", CASES, limits=LIMITS).passed == 0
    assert time.monotonic() - start < 2.0 + 5.0 + 5.0  # limit, reply margin, restart
    assert grade_function(zygote, RIGHT, "add", CASES, limits=LIMITS).solved


def test_a_program_that_prints_past_the_digit_limit_is_only_wrong(zygote: Zygote) -> None:
    program = "import sys\nsys.set_int_max_str_digits(0)\ninput()\nprint(7 ** 5200)\n"
    verdict = grade_program(zygote, program, [StdioCase("1 2\n", "3\n")], limits=LIMITS)
    assert verdict.details["failures"] == [{"case": 0, "why": "wrong answer"}]


# -- assert-style grading (HumanEval, MBPP) -------------------------------------------

EXPECTS_A_RAISE = textwrap.dedent(
    """
    def check(candidate):
        try:
            candidate(-1)
        except ValueError:
            pass
        else:
            raise AssertionError("no ValueError for -1")
        assert candidate(3) == 9
    """
)
# Never raises: for -1 it sends a malformed value in place of its answer, and sends its
# real answer to that call nowhere (so the next call's answer is the next one read).
MALFORMED_FOR_A_RAISE = textwrap.dedent(
    """
    import json, os, struct
    SAVED = {}
    def square(x):
        for fd, copy in SAVED.items():
            os.dup2(copy, fd)
        SAVED.clear()
        if x >= 0:
            return x * x
        body = json.dumps({"v": {"i": "not a number"}}).encode()
        targets = []
        for fd in range(3, 10):
            try:
                os.write(fd, struct.pack(">I", len(body)) + body)
                targets.append(fd)
            except OSError:
                pass
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in targets:
            SAVED[fd] = os.dup(fd)
            os.dup2(null, fd)
        return 0
    """
)
ASSERT_ATTACKS = {
    "a malformed value where the tests expect a ValueError": MALFORMED_FOR_A_RAISE,
    "a SystemExit subclass where the tests expect a ValueError": (
        "class Out(SystemExit):\n    pass\n"
        "def square(x):\n    if x < 0:\n        raise Out(0)\n    return x * x\n"
    ),
    "a huge int where the tests expect a ValueError": (
        "import sys\nsys.set_int_max_str_digits(0)\n"
        "def square(x):\n    return 10 ** 4400 if x < 0 else x * x\n"
    ),
    "builtins and unittest patched in the candidate's process": (
        "import builtins, unittest\n"
        "builtins.AssertionError = type('Never', (Exception,), {})\n"
        "unittest.TestCase.assertEqual = lambda *a, **k: None\n"
        "def square(x):\n    return 0\n"
    ),
}


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("attack", list(ASSERT_ATTACKS))
def test_an_assert_style_attack_earns_nothing(real_box: Sandbox, attack: str, direct: bool) -> None:
    def graded(candidate: str) -> bool:
        return grade_assert_tests(
            real_box, candidate, prelude="", test=EXPECTS_A_RAISE, entry_point="square",
            call="check(square)", seconds=3.0, direct=direct,
        ).solved  # fmt: skip

    assert not graded(ASSERT_ATTACKS[attack]), attack
    honest = "def square(x):\n    if x < 0:\n        raise ValueError(x)\n    return x * x\n"
    # The candidate's own ValueError reaches the tests as a CandidateError (its
    # exceptions do not cross as theirs), so even this fails the test: the control is
    # that the same tests pass a candidate that needs no raise at all.
    assert not graded(honest)
    assert grade_assert_tests(
        real_box, "def square(x):\n    return x * x\n", prelude="",
        test="assert square(3) == 9\n", entry_point="square", call="pass", direct=direct,
    ).solved  # fmt: skip


# -- project tasks --------------------------------------------------------------------

PROJECT_BACKENDS = ["bwrap", pytest.param("docker", marks=pytest.mark.integration)]
BROKEN_INVENTORY = textwrap.dedent(
    """
    class OutOfStock(ValueError):
        pass

    class Inventory:
        def add(self, item, count=1):
            ATTACK

        take = count = items = add
    """
)
PROJECT_ATTACKS = {
    "a reply nested near the limit, on every descriptor": (
        "import os, struct\n"
        "body = b'{\"v\": ' + b'[' * 990 + b']' * 990 + b'}'\n"
        "for fd in range(3, 12):\n"
        "    try:\n"
        "        os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "    except OSError:\n"
        "        pass\n"
        "return None"
    ),
    "a huge int with the digit limit lifted": (
        "import sys\nsys.set_int_max_str_digits(0)\nreturn 10 ** 4400"
    ),
}


@pytest.mark.parametrize("backend", PROJECT_BACKENDS)
@pytest.mark.parametrize("attack", list(PROJECT_ATTACKS))
def test_a_project_attack_on_the_relay_earns_nothing(backend: str, attack: str) -> None:
    require_pytest_in(backend)
    body = textwrap.indent(PROJECT_ATTACKS[attack], " " * 8).strip()
    project = BROKEN_INVENTORY.replace("ATTACK", body)
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    try:
        env.reset(options={"task_id": "project-inventory"})
        action = f'<write path="inventory.py">\n{project}</write>\n<submit/>'
        _, reward, terminated, _, info = env.step(action)
    finally:
        env.close()
    assert terminated and reward == 0.0 and info["verdict"]["passed"] == 0, info["verdict"]


@pytest.mark.parametrize("backend", PROJECT_BACKENDS)
def test_a_megabyte_of_run_tags_is_a_turn_without_action(backend: str) -> None:
    """The reported hang, end to end: the step answers at once and runs nothing."""
    require_pytest_in(backend)
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    try:
        env.reset(options={"task_id": "project-inventory"})
        start = time.monotonic()
        observation, reward, terminated, *_ = env.step("<run>" * ((1 << 20) // 5))
        assert time.monotonic() - start < 10.0
        assert "No action found" in observation and not terminated and reward == 0.0
    finally:
        env.close()


# Writes into the standard output of the program that lists the agent's files for
# grading (found by its command line), so that the host reads JSON nested past the limit.
LISTING_FORGER = textwrap.dedent(
    r"""
    import os, time
    end = time.time() + 30
    while time.time() < end:
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"found = []" not in f.read():
                        continue
                fd = os.open(f"/proc/{pid}/fd/1", os.O_WRONLY)
                os.write(fd, b"[" * 200000)
                os.close(fd)
            except OSError:
                pass
        time.sleep(0.0002)
    """
)


@pytest.mark.parametrize("backend", ["local", *PROJECT_BACKENDS])
def test_a_daemon_that_forges_the_file_listing_earns_nothing(backend: str) -> None:
    """Defended: the listing's output cannot be opened by the agent's processes (and it
    would be read as data); the daemon is stopped before the tests run."""
    require_pytest_in(backend)
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    try:
        env.reset(options={"task_id": "project-inventory"})
        env.step(
            f'<write path="forger.py">\n{LISTING_FORGER}</write>\n'
            "<run>setsid nohup python3 forger.py >/dev/null 2>&1 & sleep 0.3</run>"
        )
        _, reward, terminated, _, info = env.step("<submit/>")
    finally:
        env.close()
    assert terminated and reward == 0.0 and info["verdict"]["passed"] == 0


@pytest.mark.parametrize("backend", ["local", *PROJECT_BACKENDS])
def test_a_directory_tree_deeper_than_the_recursion_limit_is_graded_and_removed(
    backend: str,
) -> None:
    """Grading resets the sandbox (what the agent started must not run during the
    tests); the next episode resets it again, and close removes it."""
    require_pytest_in(backend)
    deep = "import os\nfor _ in range(5000):\n    os.mkdir('d')\n    os.chdir('d')\n"
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    workdirs = set()
    try:
        env.reset(options={"task_id": "project-inventory"})
        workdirs.add(getattr(env.unwrapped._sandbox, "workdir", None))  # type: ignore[attr-defined]
        env.step(f'<write path="deep.py">\n{deep}</write>\n<run>python3 deep.py</run>')
        _, reward, terminated, _, _ = env.step("<submit/>")
        assert terminated and reward == 0.0
        env.reset(options={"task_id": "project-inventory"})
        env.close()
    finally:
        with contextlib.suppress(Exception):
            env.close()
        for workdir in workdirs - {None}:  # what a failed close left on the host
            subprocess.run(["rm", "-rf", "--one-file-system", str(workdir)], check=False)


def test_a_directory_tree_deeper_than_the_recursion_limit_leaves_function_grading_whole(
    real_box: Sandbox,
) -> None:
    """The same tree made by a function task's answer, in the warm grader's run
    directory: it earns nothing, and the reference still earns everything after it."""
    env = gym.make("taskgym/CodeTests-v0", sandbox=real_box.backend)
    deep = "```python\nimport os\nfor _ in range(5000):\n    os.mkdir('d')\n    os.chdir('d')\n```"
    try:
        for _ in range(2):
            _, info = env.reset(seed=0)
            assert env.step(deep)[1] == 0.0
            env.reset(seed=0)
            reference = env.unwrapped.task.get(info["task_id"]).solution[0]  # type: ignore[attr-defined]
            assert env.step(reference)[1] == 1.0
    finally:
        env.close()
