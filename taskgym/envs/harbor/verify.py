"""Grading a Harbor task after the agent's last turn, as Harbor's verifier does, and
trusting nothing the agent could have touched.

In order:

1. Every process of the agent is killed (its container is killed and, for a shared
   verifier, started again; for a separate one, left stopped): nothing it left running
   can rewrite files or the reward while the tests run.
2. A shared verifier first reads, through the engine, what the agent changed
   (:mod:`taskgym.envs.harbor.toolchain`). Where a change reaches the tools the tests
   run (a replaced ``python3``, a loader preload, a ``.pth``, a ``/pytest.ini``), the
   tests run instead in a fresh container of the task's image that receives the
   agent's working directory and artifacts, as a separate verifier does; the verdict
   names the changes.
3. ``/tests`` and ``/logs/verifier`` are removed and made afresh by the grader (as
   root, ``/logs/verifier`` owned by the verifier's user and writable by it alone), so
   a ``reward.txt``, a ``conftest.py`` or a link the agent planted there counts for
   nothing; the task's ``tests/`` is copied in only now (the agent never saw it: it is
   not in the image, and the container had no ``/tests`` of ours before).
4. ``tests/test.sh`` runs from the working directory, as the verifier's user with the
   verifier's ``env``, killed after the task's ``[verifier] timeout_sec`` (a hang earns
   0, the grader goes on). A process it started that is still running when it ends
   (code of the agent's the tests ran, left to rewrite the reward) earns 0; then every
   process of the container is killed before the reward is read.
5. ``/logs/verifier/reward.json`` (first) or ``reward.txt`` is read by the grader, at
   most 64 KiB, and parsed strictly (:func:`parse_reward`).

A separate verifier (``[verifier] environment_mode = "separate"`` or a
``[verifier.environment]``, Harbor's rule) runs in a container of its own: the image of
``tests/Dockerfile`` (tests bundled by its ``COPY``) when there is one, else
``[verifier.environment].docker_image``, else a fresh container of the task's own
image. Into it the grader carries, from the agent's stopped container, the agent's
working directory and each declared artifact (at the same paths, through a filter that
drops devices, setuid bits and links that leave them, and ``/logs/artifacts``). The
tests then run with tools the agent never touched.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskgym.core import Verdict
from taskgym.envs.harbor.config import HarborConfig, resolve_env
from taskgym.envs.harbor.container import CarryTooLarge, HarborContainer, carry_paths
from taskgym.envs.harbor.images import BaseImages, build_task_image, map_base_image
from taskgym.envs.harbor.toolchain import tool_changes
from taskgym.errors import SandboxError

__all__ = ["MAX_CARRY_BYTES", "MAX_REWARD_BYTES", "VerifierPlan", "parse_reward", "verify"]

MAX_REWARD_BYTES = 64 * 1024
MAX_CARRY_BYTES = 4 * 1024 * 1024 * 1024
"""Of the agent's files carried into a separate verifier: more earns 0.0."""
# $1: the verifier's user, who alone may write the reward (root when the task names none);
# /logs is root's too, or a /logs the agent owns would let its code swap /logs/verifier.
_PREPARE = (
    "rm -rf /tests /logs/verifier; "
    "if [ -L /logs ] || [ -e /logs -a ! -d /logs ]; then rm -f /logs; fi; "
    "mkdir -p /logs/verifier /logs/artifacts /tests && chown 0:0 /logs /tests "
    '&& chmod 755 /logs /tests && chown "$1" /logs/verifier && chmod 755 /logs/verifier'
)
# Runs tests/test.sh, then counts the processes started since that still run (zombies
# aside: init reaps them): they could rewrite the reward once the tests have written it.
# Its exit status says whether any did (no other process can forge it, as one can the
# output, by writing to /proc/<pid>/fd/1); only bash builtins read /proc.
_LEFT_RUNNING = 99
_RUN_TESTS = rf"""
before=" "; for p in /proc/[0-9]*; do before="$before${{p#/proc/}} "; done
/tests/test.sh > /logs/verifier/test-stdout.txt 2>&1
status=$? left=0
for p in /proc/[0-9]*; do
  p=${{p#/proc/}}; [ "$p" = "$$" ] && continue
  case "$before" in *" $p "*) continue;; esac
  read -r line < "/proc/$p/stat" 2>/dev/null || continue
  rest=${{line##*) }}; [ "${{rest%% *}}" = Z ] || left=$((left + 1))
done
echo; echo "taskgym-tests $status $left"
[ "$left" = 0 ] || exit {_LEFT_RUNNING}
"""


@dataclass(frozen=True)
class VerifierPlan:
    """What :func:`verify` needs of a task: where its files are and how it runs."""

    task_id: str
    directory: Path
    config: HarborConfig
    image: str
    """The task's own (agent's) image, already built."""
    base_images: BaseImages
    network: bool
    runtime: str
    agent_may_change: tuple[str, ...] = ()
    """Paths a shared verifier lets the agent change (the task's and the env's)."""


def verify(plan: VerifierPlan, agent: HarborContainer) -> Verdict:
    """Grade the state ``agent`` was left in (see the module's docstring)."""
    agent.halt()
    if plan.config.verifier_mode == "separate":
        return _in_own_container(plan, agent, _separate_container(plan), {})
    try:
        changed = tool_changes(
            agent.changes(), workdir=agent.inside_workdir, allowed=plan.agent_may_change
        )
    except SandboxError as e:
        return _broken(f"the agent's changes could not be read: {e}")
    if changed:
        noted = {
            "tools_changed": changed,
            "graded_in": "a fresh container of the task's image, with the agent's "
            "working directory and artifacts (the agent changed the tests' tools)",
        }
        return _in_own_container(plan, agent, _task_container(plan), noted)
    try:
        agent.stop_everything()
    except SandboxError as e:  # the agent broke its own machine (removed its init's program)
        return _broken(f"the agent's container could not be started again for the tests: {e}")
    return _run_tests(plan, agent, carry=None)


def _in_own_container(
    plan: VerifierPlan, agent: HarborContainer, box: HarborContainer, noted: dict[str, Any]
) -> Verdict:
    """The tests in ``box``, which receives the (halted) agent's working directory and
    artifacts; ``noted`` joins the verdict's details."""
    try:
        carried = [agent.inside_workdir, *_artifact_paths(plan.config, agent), "/logs/artifacts"]
        verdict = _run_tests(plan, box, carry=(agent, carried))
    except CarryTooLarge:
        verdict = _broken(f"the agent's files to carry are more than {MAX_CARRY_BYTES} bytes")
    finally:
        box.close()
    return Verdict(verdict.parsed, verdict.passed, verdict.total, {**verdict.details, **noted})


def _run_tests(
    plan: VerifierPlan,
    box: HarborContainer,
    carry: tuple[HarborContainer, list[str]] | None,
) -> Verdict:
    config = plan.config
    owner = "0" if config.verifier_user is None else str(config.verifier_user)
    prepared = box.run_as(["sh", "-c", _PREPARE, "prepare", owner], user="0", seconds=60)
    if not prepared.ok:
        return _broken(f"could not prepare /logs/verifier: {prepared.err[-500:]}")
    # Checked by the engine, not by the container's tools, which the agent may have
    # replaced (an rm that removes nothing would leave a planted reward).
    # /tests is made inside too: under gVisor a directory made from the host where the
    # container once looked for it stays unseen (its cache remembers the absence).
    if box.entries("/tests") != ["tests"] or box.entries("/logs/verifier") != ["verifier"]:
        return _broken("/tests and /logs/verifier could not be made afresh (tools changed?)")
    if carry is not None:
        carried = [p for p in carry[1] if p != "/"]
        carry_paths(carry[0], box, carried, max_bytes=MAX_CARRY_BYTES)
    # A verifier image built from tests/Dockerfile holds the tests already (its COPY);
    # they were removed with the rest of /tests and come back from the task's directory.
    tests = _test_files(plan.directory / "tests")
    box.put_files("/", {f"tests/{name}": value for name, value in tests.items()})
    box.run_as(["chmod", "+x", "/tests/test.sh"], user="0", seconds=30)
    env = resolve_env(config.verifier_env, f"{plan.task_id}: [verifier.env]")
    user = None if config.verifier_user is None else str(config.verifier_user)
    ran = box.run_as(
        ["bash", "-c", _RUN_TESTS], user=user, seconds=config.verifier_timeout_sec, env=env
    )
    box.halt()  # nothing runs on to write the reward while the grader reads it
    if ran.timed_out:
        reason = f"tests/test.sh ran out of its {config.verifier_timeout_sec:g} s"
        return Verdict(True, 0, 1, details={"reward": 0.0, "reason": reason})
    if ran.exit_code == _LEFT_RUNNING:
        return _broken(
            f"{_tests_outcome(ran.stdout)[1] or 'some'} process(es) that tests/test.sh "
            "started still ran when it ended: they could have rewritten the reward "
            "(tests must stop what they start)"
        )
    if ran.exit_code != 0:
        return _broken(f"the tests' runner failed ({ran.exit_code}): {ran.err[-300:]}")
    status, _ = _tests_outcome(ran.stdout)
    reward, rewards, problem = _read_reward(box)
    # The tests' output stays out: a verdict is deterministic, and it holds timings.
    details: dict[str, Any] = {"reward": reward, "test_exit_code": status}
    if rewards:
        details["rewards"] = rewards
    if problem:
        details["reason"] = problem
    return Verdict(True, int(reward == 1.0), 1, details=details)


def _tests_outcome(stdout: bytes) -> tuple[int | None, int | None]:
    """test.sh's exit status and the count of processes left running, as the runner's
    last line says (for the verdict's details only: a process of the tests could have
    written a line of its own there)."""
    lines = stdout.decode("utf-8", errors="replace").splitlines()
    words = lines[-1].split() if lines else []
    if len(words) == 3 and words[0] == "taskgym-tests" and all(w.isdigit() for w in words[1:]):
        return int(words[1]), int(words[2])
    return None, None


def _read_reward(box: HarborContainer) -> tuple[float, dict[str, float], str]:
    """The reward, every named reward, and what was wrong (empty when nothing was)."""
    for name in ("reward.json", "reward.txt"):
        try:
            data = box.read_absolute(f"/logs/verifier/{name}", MAX_REWARD_BYTES)
        except FileNotFoundError:
            continue
        except OSError as e:
            return 0.0, {}, f"/logs/verifier/{name} cannot be read as a reward: {e}"
        return parse_reward(data, json_format=name.endswith(".json"))
    return 0.0, {}, "the tests wrote no /logs/verifier/reward.json or reward.txt"


def parse_reward(  # noqa: PLR0911 - one return a way a reward file can be wrong
    data: bytes, *, json_format: bool
) -> tuple[float, dict[str, float], str]:
    """A reward file read strictly: one finite number in [0, 1] (``reward.txt``), or a
    JSON number or object of named finite numbers whose ``reward`` (or only value) is
    in [0, 1] (``reward.json``). Anything else earns 0.0 and says why."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return 0.0, {}, "the reward file is not UTF-8 text"
    if not json_format:
        try:
            value = float(text.strip())
        except ValueError:
            return 0.0, {}, f"reward.txt holds no number: {text[:80]!r}"
        return _in_range(value, {})
    try:
        parsed = json.loads(text, parse_constant=_no_constant)
    except ValueError as e:
        return 0.0, {}, f"reward.json is not JSON of finite numbers: {e}"
    if _is_number(parsed):
        return _in_range(float(parsed), {})
    if not isinstance(parsed, dict) or not parsed:
        return 0.0, {}, "reward.json must be a number or an object of named numbers"
    if not all(_is_number(v) for v in parsed.values()):
        return 0.0, {}, "reward.json holds a value that is not a number"
    rewards = {str(k): float(v) for k, v in parsed.items()}
    if not all(math.isfinite(v) for v in rewards.values()):
        return 0.0, {}, "reward.json holds a number that is not finite"
    if "reward" in rewards:
        return _in_range(rewards["reward"], rewards)
    if len(rewards) == 1:
        return _in_range(next(iter(rewards.values())), rewards)
    return 0.0, rewards, "reward.json names several rewards and none is 'reward'"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _in_range(value: float, rewards: dict[str, float]) -> tuple[float, dict[str, float], str]:
    if not math.isfinite(value):
        return 0.0, rewards, f"the reward {value!r} is not finite"
    if not 0.0 <= value <= 1.0:
        return 0.0, rewards, f"the reward {value!r} is outside [0, 1]"
    return value, rewards, ""


def _broken(reason: str) -> Verdict:
    return Verdict(True, 0, 1, details={"reward": 0.0, "reason": reason})


def _test_files(tests: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``tests/`` (the verifier's Dockerfile too, harmlessly), writable
    by root alone (code of the agent's the tests run as another user cannot append to
    the test.sh bash is reading)."""
    return {
        path.relative_to(tests).as_posix(): (path.read_bytes(), path.stat().st_mode & 0o755)
        for path in sorted(tests.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _artifact_paths(config: HarborConfig, agent: HarborContainer) -> list[str]:
    base = agent.inside_workdir.rstrip("/")
    return [a if a.startswith("/") else f"{base}/{a}" for a in config.artifacts]


def _separate_container(plan: VerifierPlan) -> HarborContainer:
    config, spec = plan.config, plan.config.verifier_spec()
    tests = plan.directory / "tests"
    if (tests / "Dockerfile").is_file():
        image = build_task_image(
            tests, f"{plan.task_id}-verifier", plan.base_images, timeout=spec.build_timeout_sec
        )
    elif config.verifier_environment is not None and spec.docker_image:
        image = map_base_image(spec.docker_image, plan.base_images)
    else:
        image = plan.image
    return _container_of(plan, image)


def _task_container(plan: VerifierPlan) -> HarborContainer:
    """A fresh container of the task's own image, for a shared verifier whose tools the
    agent changed."""
    return _container_of(plan, plan.image)


def _container_of(plan: VerifierPlan, image: str) -> HarborContainer:
    config, spec = plan.config, plan.config.verifier_spec()
    mode = config.verifier_network or spec.network_mode
    return HarborContainer(
        image,
        workdir=spec.workdir,
        env=resolve_env(spec.env, f"{plan.task_id}: [verifier.environment].env"),
        memory_mb=spec.memory_mb or 2048,
        cpus=spec.cpus or 1.0,
        storage_mb=spec.storage_mb,
        network=plan.network and mode == "public",
        runtime=plan.runtime,
    )
