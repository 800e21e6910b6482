"""Small tasks used only by the project's own tests of the logic above them."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym

from taskgym import Execution, Problem, Reply, Task, Turn, Verdict
from taskgym.errors import UnknownTaskIdError
from taskgym.registry import _ENVS
from taskgym.sandboxes import Sandbox


@dataclass(frozen=True)
class EchoTask(Task):
    """Single turn: say the word in the prompt."""

    family: ClassVar[str] = "test"

    def problem(self, seed: int) -> Problem:
        word = f"word{seed}"
        return Problem(id=f"echo-{seed}", prompt=f"Say {word}", solution=(word,), data={"w": word})

    def get(self, task_id: str) -> Problem:
        if not task_id.startswith("echo-") or not task_id[5:].isdigit():
            raise UnknownTaskIdError(f"no problem {task_id!r}")
        return self.problem(int(task_id[5:]))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        answer = transcript[-1].action.strip()
        if not answer:
            return Verdict.unparsed("empty")
        return Verdict(True, int(answer == problem.data["w"]), 1)


@dataclass(frozen=True)
class CountdownTask(Task):
    """Multi-turn: send 'next' until the countdown is over, then 'submit'. Three checks:
    one per 'next' that was needed, so partial credit is visible."""

    steps: int = 3
    family: ClassVar[str] = "test"

    @property
    def multi_turn(self) -> bool:
        return True

    def problem(self, seed: int) -> Problem:
        return Problem(
            id=f"countdown-{seed}",
            prompt=f"Send 'next' {self.steps} times, then 'submit'.",
            solution=("next",) * self.steps + ("submit",),
        )

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        if action == "submit":
            return Reply("submitted", done=True)
        return Reply(f"turn {len(transcript) + 1}: got {action!r}")

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        nexts = sum(t.action == "next" for t in transcript)
        submitted = transcript[-1].action == "submit"
        return Verdict(True, min(nexts, self.steps) if submitted else 0, self.steps)


@dataclass(frozen=True)
class FileTask(Task):
    """Uses the sandbox: setup writes a file, check reads what the agent wrote."""

    execution: ClassVar[Execution] = Execution(needs_sandbox=True)
    family: ClassVar[str] = "test"

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"file-{seed}", prompt="say what in.txt holds", solution=(f"{seed}",))

    def get(self, task_id: str) -> Problem:
        return self.problem(int(task_id.removeprefix("file-")))

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        sandbox.write_file("in.txt", problem.solution[0])

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        content = sandbox.read_file("in.txt").decode()
        return Verdict(True, int(content == transcript[-1].action), 1)


@contextlib.contextmanager
def registered(env_id: str, entry_point: str, **kwargs: object) -> Iterator[str]:
    """Register a throw-away env for one test and remove it afterwards."""
    from taskgym.registry import register_task

    name, _, version = env_id.removeprefix("taskgym/").rpartition("-v")
    try:
        yield register_task(
            name, entry_point, family="test", description="test", version=int(version), **kwargs
        )
    finally:
        gym.registry.pop(env_id, None)
        _ENVS.pop(env_id, None)


_FOUR_AT_ONCE = threading.Barrier(4)


@dataclass(frozen=True)
class HazardTask(Task):
    """For executor tests: answer 'ok'. The check of problem ``hazard-N`` kills its
    process when N ends in 7, never returns when it ends in 8, and raises when in 9;
    it takes 2 s when N ends in 5, and when in 6 it waits (10 s at most, then raises)
    until four such checks are running in its process at once."""

    family: ClassVar[str] = "test"

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"hazard-{seed}", prompt="Say ok.", solution=("ok",))

    def get(self, task_id: str) -> Problem:
        if not task_id.startswith("hazard-") or not task_id[7:].isdigit():
            raise UnknownTaskIdError(f"no problem {task_id!r}")
        return self.problem(int(task_id[7:]))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        last = problem.id[-1]
        if last == "7":
            os._exit(7)
        if last == "8":
            time.sleep(3600)
        if last == "9":
            raise RuntimeError("a broken check")
        if last == "5":
            time.sleep(2.0)
        if last == "6":
            _FOUR_AT_ONCE.wait(timeout=10)
        return Verdict(True, int(transcript[-1].action == "ok"), 1)


STAGE_THREADS: list[tuple[str, str]] = []
"""(stage, thread name) for each call into a :class:`StageNotingTask`."""


@dataclass(frozen=True)
class StageNotingTask(Task):
    """Two turns of anything; notes which thread ran each stage. Its problems and replies
    are declared quick, its check not."""

    family: ClassVar[str] = "test"
    execution: ClassVar[Execution] = Execution(quick_stages={"problem", "interact"})

    @property
    def multi_turn(self) -> bool:
        return True

    def problem(self, seed: int) -> Problem:
        STAGE_THREADS.append(("problem", threading.current_thread().name))
        return Problem(id=f"noting-{seed}", prompt="Say two things.", solution=("a", "b"))

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        STAGE_THREADS.append(("interact", threading.current_thread().name))
        return Reply("ok", done=len(transcript) == 1)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        STAGE_THREADS.append(("check", threading.current_thread().name))
        return Verdict(True, 1, 1)


def play(
    env: gym.Env[str, str], task_id: str, actions: Sequence[str]
) -> tuple[float, dict[str, Any], list[str]]:
    """An episode of ``task_id`` played with ``actions`` (the last must end it): its
    reward, verdict and observations."""
    env.reset(options={"task_id": task_id})
    observations = []
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        observations.append(observation)
        if terminated or truncated:
            return float(reward), info["verdict"], observations
    raise AssertionError(f"the episode did not end after {actions!r}")


def timeless(records: Any) -> list[dict[str, Any]]:
    """Run-file records (EpisodeRecords or their JSON) without their wall times, which
    differ from run to run: what two ways of playing the same episodes must agree on."""
    found = []
    for record in records:
        data = record if isinstance(record, dict) else record.to_json()
        found.append({k: v for k, v in data.items() if k != "seconds"})
    return found


def confined_worker(pid: int | None) -> Path:
    """``/proc/<pid>`` of the Python worker (``worker.py``) under ``pid`` (a
    :class:`~taskgym.envs.common.confined.ConfinedWorker`'s), after checking that it is
    confined: namespaces of its own, no capabilities, no home directory to see."""
    assert pid is not None, "no worker runs"
    pids = [pid, *descendants(pid)]
    python = [p for p in pids if "worker.py" in Path(f"/proc/{p}/cmdline").read_text()]
    assert python, "no worker process found"
    inside = Path(f"/proc/{python[-1]}")
    for namespace in ("net", "pid", "user", "mnt"):
        ours = Path(f"/proc/self/ns/{namespace}").readlink()
        assert (inside / "ns" / namespace).readlink() != ours, namespace
    assert "CapEff:\t0000000000000000" in (inside / "status").read_text()
    home = inside / "root" / "home"
    assert not home.exists() or not any(home.iterdir())
    return inside


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs...), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found
