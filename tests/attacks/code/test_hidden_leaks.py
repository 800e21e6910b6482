"""Nothing of a hidden test reaches what the agent later reads. An answer that records the
arguments it is called with (files in /tmp, /dev/shm, the work directory and its home; a
daemon that holds them in its command line) and reports whatever it finds of them in its
own output must never see a hidden argument in a later observation: in a later attempt
or run of the same episode, or in the next episode played in the same sandbox.

Broke through once: CodeTestsRetry-v0 graded the hidden tests at every attempt, in the
sandbox where the next attempt's visible examples ran (and the examples' run came after
the hidden one in the same attempt), so an answer showed the hidden inputs in its own
feedback and a lookup table of them earned 0.9 on the second attempt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.sandboxes import make_sandbox
from tests.conftest import REAL_BACKENDS, require_backend, require_pytest_in

SECRET = "hidden-7f3a"  # in every hidden argument, and nowhere else
TASK = {
    "id": "shout",
    "prompt": "Write shout(s): s in capitals.",
    "entry_point": "shout",
    "solution": "def shout(s):\n    return s.upper()\n",
    "examples": [{"args": ["visible"], "expected": "VISIBLE"}],
    "tests": [{"args": [f"{SECRET}-{n}"], "expected": f"{SECRET}-{n}".upper()} for n in range(4)],
}

# Keeps every argument it is called with wherever it can, and raises with every one it
# finds: the visible examples' feedback shows a raised error's message.
RECORDER = """
import glob, json, os, sys, time

PLACES = ["/tmp", "/dev/shm", "..", "../..", os.path.expanduser("~"), os.getcwd()]


def found():
    seen = []
    for place in PLACES:
        for path in glob.glob(os.path.join(place, "seen-*.json")):
            try:
                with open(path) as f:
                    seen += json.load(f)
            except (OSError, ValueError):
                pass
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                line = f.read()
        except OSError:
            continue
        if b"SEEN:" in line:
            seen.append(line.split(b"SEEN:")[1].decode(errors="replace"))
    return sorted(set(seen))


def keep(arg):
    for place in PLACES:
        try:
            name = f"seen-{os.getpid()}-{time.monotonic_ns()}.json"
            with open(os.path.join(place, name), "w") as f:
                json.dump([arg], f)
        except OSError:
            pass
    if os.fork() == 0:  # a daemon that outlives the run, holding the argument
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # not the run's pipes: its grader would wait for them
                os.dup2(null, fd)
            os.closerange(3, 1024)
            code = "import time; time.sleep(120)"
            os.execv(sys.executable, [sys.executable, "-c", code, "SEEN:" + arg])
        finally:
            os._exit(0)


def shout(s):
    keep(s)
    raise ValueError("seen: " + json.dumps(found()))
"""
ANSWER = f"```python\n{RECORDER}```"
RUN = f"<run>\n{RECORDER}\nprint('seen:', found())\n</run>"


def _require_no_trace(backend: str) -> None:
    """Only a sandbox whose reset leaves nothing can promise what a later program finds
    (local run as another user than root: its files in /tmp stay)."""
    require_backend(backend)
    with make_sandbox(backend) as box:
        if not box.reset_leaves_no_trace:
            pytest.skip(f"the {backend} sandbox's reset may leave files and processes behind")


def _env(tmp_path: Path, env_id: str, backend: str) -> gym.Env[str, str]:
    _require_no_trace(backend)
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps(TASK) + "\n")
    return gym.make(env_id, tasks=str(tasks), sandbox=backend)


def _attempts(env: gym.Env[str, str]) -> tuple[list[str], dict[str, Any]]:
    """A retry episode of recorder answers: what the agent read, and the last info."""
    env.reset(options={"task_id": "shout"})
    shown, terminated, info = [], False, {}
    while not terminated:
        observation, _, terminated, truncated, info = env.step(ANSWER)
        shown.append(observation)
        terminated = terminated or truncated
    return shown, info


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_a_later_attempt_never_sees_a_hidden_argument(tmp_path: Path, backend: str) -> None:
    env = _env(tmp_path, "taskgym/CodeTestsRetry-v0", backend)
    try:
        shown, info = _attempts(env)
        assert len(shown) == 3 and "visible" in shown[1]  # the recorder did report
        assert not any(SECRET in text for text in shown), shown
        assert info["verdict"]["total"] == 4 and info["verdict"]["passed"] == 0
    finally:
        env.close()


@pytest.mark.parametrize("backend", REAL_BACKENDS)
@pytest.mark.parametrize("env_id", ["taskgym/CodeTestsRetry-v0", "taskgym/CodeTestsTools-v0"])
def test_the_next_episode_in_the_same_sandbox_never_sees_a_hidden_argument(
    tmp_path: Path, backend: str, env_id: str
) -> None:
    env = _env(tmp_path, env_id, backend)
    try:
        for _ in range(2):  # the first episode's hidden tests ran before the second
            env.reset(options={"task_id": "shout"})
            if env_id.endswith("Tools-v0"):
                shown, *_ = env.step(RUN)
                assert "seen:" in shown
                env.step(ANSWER)
            else:
                shown = " ".join(_attempts(env)[0])
                assert "seen:" in shown
            assert SECRET not in shown, shown
    finally:
        env.close()


PROJECT_RECORDER = """
import glob, os, time

class OutOfStock(ValueError):
    pass

class Inventory:
    def add(self, item, count=1):
        for place in ("/tmp", "/dev/shm", "..", os.getcwd()):
            try:
                with open(os.path.join(place, f"seen-{time.monotonic_ns()}"), "w") as f:
                    f.write("SEEN:" + str(item))
            except OSError:
                pass
        raise RuntimeError("recorded")

    take = count = items = add
"""
PROJECT_SEARCH = (
    "<run>cat /tmp/seen-* /dev/shm/seen-* ../seen-* seen-* 2>/dev/null; "
    "ls -a /tmp /dev/shm .; echo searched</run>"
)


@pytest.mark.parametrize(
    "backend", ["bwrap", pytest.param("docker", marks=pytest.mark.integration)]
)
def test_a_project_episode_never_sees_the_calls_of_the_last_ones_tests(backend: str) -> None:
    """The hidden tests of a project call it with their own arguments ("apple" in the
    inventory's tests); a candidate that keeps them shows nothing to the next episode."""
    require_pytest_in(backend)
    _require_no_trace(backend)
    env = gym.make("taskgym/CodeProject-v0", sandbox=backend)
    try:
        env.reset(options={"task_id": "project-inventory"})
        write = f'<write path="inventory.py">\n{PROJECT_RECORDER}</write>\n<submit/>'
        _, reward, *_ = env.step(write)
        assert reward == 0.0
        env.reset(options={"task_id": "project-inventory"})
        shown, *_ = env.step(PROJECT_SEARCH)
        assert "searched" in shown and "SEEN:" not in shown, shown
    finally:
        env.close()
