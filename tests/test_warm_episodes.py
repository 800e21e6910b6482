"""Between episodes of a task that runs only in its zygote, the env scrubs the sandbox
instead of resetting it, so the grader process stays warm. These tests attack the scrub:
nothing one episode leaves behind may reach the next."""

from __future__ import annotations

import time

import gymnasium as gym
import pytest

from taskgym.sandboxes import make_sandbox
from taskgym.sandboxes.zygote import Zygote, scrub_for_next_episode, zygote_for

from .conftest import require_backend

LEAVE_TRACES = """
import os, subprocess
os.makedirs("../stay/deep", exist_ok=True)
open("../stay/deep/f", "w").write("x")
os.chmod("../stay/deep", 0o500)
os.chmod("../stay", 0o500)
open("/tmp/planted", "w").write("x")
open("/dev/shm/planted", "w").write("x")
open("../.hidden", "w").write("x")
os.symlink("/etc/passwd", "../link")
# A daemon that leaves the program's group and keeps writing.
subprocess.Popen(["setsid", "sh", "-c",
    "while true; do echo x >> /tmp/daemon; echo x >> ../daemon; sleep 0.01; done"])
"""

LOOK_AROUND = """
import os
seen = sorted(os.listdir("..")) + sorted(os.listdir("/tmp")) + sorted(os.listdir("/dev/shm"))
procs = [p for p in os.listdir("/proc") if p.isdigit()]
print(seen, len(procs))
"""


@pytest.mark.slow
def test_nothing_an_episode_leaves_reaches_the_next() -> None:
    require_backend("bwrap")
    with make_sandbox("bwrap") as box:
        zygote = zygote_for(box)
        zygote.run(LEAVE_TRACES)
        time.sleep(0.1)
        generation = box.generation
        assert scrub_for_next_episode(box)
        assert box.generation == generation and zygote_for(box) is zygote  # still warm
        out = zygote.run(LOOK_AROUND).execution.out
        # Only the program's own fresh directory is in the work directory; three
        # processes: the namespace's init, the zygote and this program.
        assert out.startswith("[") and out.count("run-") == 1, out
        assert "planted" not in out and "daemon" not in out and "stay" not in out, out
        assert out.rstrip().endswith(" 3"), out


def test_scrub_is_refused_where_the_zygote_cannot_sweep() -> None:
    # In the local sandbox the zygote shares the host's pid namespace: the env resets.
    with make_sandbox("local") as box, Zygote(box) as zygote:
        assert zygote.scrub() is False
    with make_sandbox("local") as box:
        assert scrub_for_next_episode(box) is False  # no zygote yet: nothing to keep


@pytest.mark.parametrize("env_id", ["taskgym/CodeTests-v0", "taskgym/CodeStdio-v0"])
def test_code_episodes_keep_their_grader_warm_in_bwrap(env_id: str) -> None:
    require_backend("bwrap")
    env = gym.make(env_id, sandbox="bwrap")
    env.reset(seed=0)
    env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    box = env.unwrapped.sandbox  # type: ignore[attr-defined]
    zygote = zygote_for(box)
    for seed in range(1, 4):
        env.reset(seed=seed)
        _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
        assert reward == 1.0
    assert env.unwrapped.sandbox is box and zygote_for(box) is zygote  # type: ignore[attr-defined]
    env.close()


def test_a_failed_scrub_falls_back_to_a_full_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    require_backend("bwrap")
    env = gym.make("taskgym/CodeTests-v0", sandbox="bwrap")
    env.reset(seed=0)
    env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    box = env.unwrapped.sandbox  # type: ignore[attr-defined]
    generation = box.generation
    monkeypatch.setattr(Zygote, "scrub", lambda self: False)
    env.reset(seed=1)
    assert box.generation > generation  # reset: the zygote was stopped with everything
    _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
    assert reward == 1.0
    env.close()
