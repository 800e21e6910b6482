"""What ``sandbox="auto"`` picks: bwrap where it works, else local, but never local for a
task whose tests must stay hidden (``Execution.hides_tests``): there it refuses, saying
what to install, and only ``sandbox="local"`` named by the user runs it."""

from __future__ import annotations

import logging

import gymnasium as gym
import pytest

from taskgym import Execution, Task
from taskgym.errors import ConfigError, SandboxUnavailableError
from taskgym.plugins import load
from taskgym.sandboxes import ALLOW_LOCAL, resolve_auto
from tests.conftest import require_backend

# Self-contained envs graded by tests or checks the agent must never read.
HIDDEN_TESTS = ("CodeTests-v0", "CodeStdio-v0", "CodeProject-v0", "Shell-v0")


def task_class(name: str) -> type[Task]:
    cls: type[Task] = load(gym.spec(f"taskgym/{name}").kwargs["task"], "task")
    return cls


def oracle_reward(env: gym.Env[str, str], seed: int) -> float:
    """The reward of the problem's reference solution, played action by action."""
    env.reset(seed=seed)
    total = 0.0
    for action in env.unwrapped.problem.solution:
        _, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    return total


def test_the_tasks_graded_by_hidden_tests_declare_it() -> None:
    for name in HIDDEN_TESTS:
        assert task_class(name).execution.hides_tests, name
    for name in ("Arithmetic-v0", "ArithmeticProgram-v0", "CoqProofs-v0"):
        assert not task_class(name).execution.hides_tests, name


@pytest.mark.usefixtures("no_bwrap")
@pytest.mark.parametrize("name", HIDDEN_TESTS)
def test_auto_refuses_local_for_hidden_tests_and_says_what_to_install(name: str) -> None:
    with pytest.raises(SandboxUnavailableError) as caught:
        gym.make(f"taskgym/{name}")
    message = str(caught.value)
    for part in (
        "must never read",
        "bwrap: bubblewrap is not installed (test)",
        "apt-get install bubblewrap",
        "sandbox='docker'",
        "sandbox='local' by name",
        "taskgym doctor",
    ):
        assert part in message, (part, message)


@pytest.mark.usefixtures("no_bwrap")
def test_shell_tasks_of_their_own_image_ask_for_docker_not_auto() -> None:
    env = gym.make("taskgym/ShellTools-v0")  # made without bwrap: it runs in docker
    try:
        assert env.unwrapped.sandbox_backend == "docker"
    finally:
        env.close()


@pytest.mark.usefixtures("no_bwrap")
def test_local_named_by_the_user_runs_a_task_with_hidden_tests() -> None:
    env = gym.make("taskgym/CodeTests-v0", sandbox="local")
    try:
        assert env.unwrapped.sandbox_backend == "local"
        assert oracle_reward(env, seed=0) == 1.0
    finally:
        env.close()


@pytest.mark.usefixtures("no_bwrap")
def test_allow_local_in_the_environment_accepts_local_for_the_whole_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ALLOW_LOCAL, "1")
    env = gym.make("taskgym/CodeStdio-v0")
    try:
        assert env.unwrapped.sandbox_backend == "local"
        assert oracle_reward(env, seed=0) == 1.0
    finally:
        env.close()
    monkeypatch.setenv(ALLOW_LOCAL, "0")
    with pytest.raises(SandboxUnavailableError, match=f"{ALLOW_LOCAL}=1"):
        gym.make("taskgym/CodeStdio-v0")


@pytest.mark.usefixtures("no_bwrap")
def test_auto_falls_back_to_local_for_tasks_without_hidden_tests(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from taskgym import sandboxes

    monkeypatch.setattr(sandboxes, "_warned_fallback", False)
    for name in ("Arithmetic-v0", "ArithmeticProgram-v0"):
        with caplog.at_level(logging.WARNING, logger="taskgym"):
            env = gym.make(f"taskgym/{name}")
        try:
            assert env.unwrapped.sandbox_backend == "local"
            assert oracle_reward(env, seed=1) == 1.0
        finally:
            env.close()
        warned = [r.getMessage() for r in caplog.records if "falls back" in r.getMessage()]
        # A task that runs nothing is not warned about: it has no programs to isolate.
        assert bool(warned) is (name == "ArithmeticProgram-v0"), (name, warned)


def test_auto_picks_bwrap_for_hidden_tests_where_it_works() -> None:
    require_backend("bwrap")
    env = gym.make("taskgym/CodeTests-v0")
    try:
        assert env.unwrapped.sandbox_backend == "bwrap"
    finally:
        env.close()


@pytest.mark.usefixtures("no_bwrap")
def test_a_task_limited_to_some_backends_is_offered_only_their_ways_out() -> None:
    with pytest.raises(SandboxUnavailableError) as caught:
        resolve_auto(("bwrap", "local"), hidden_tests_of="CoqLike")
    message = str(caught.value)
    assert "CoqLike" in message and "apt-get install bubblewrap" in message
    assert "docker" not in message
    assert resolve_auto(("bwrap", "local")) == "local"


def test_hides_tests_is_for_tasks_that_run_something() -> None:
    assert Execution(needs_sandbox=True, hides_tests=True).hides_tests
    with pytest.raises(ConfigError, match="needs_sandbox=True"):
        Execution(hides_tests=True)
    with pytest.raises(ConfigError, match="hides_tests must be True or False"):
        Execution(needs_sandbox=True, hides_tests="yes")  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_bwrap")
def test_a_pool_made_with_auto_gives_no_local_sandbox_to_hidden_tests() -> None:
    from taskgym import TaskEnv
    from taskgym.sandboxes.pool import SandboxPool

    with SandboxPool("auto", size=1) as pool:
        assert pool.backend == "local"
        with pytest.raises(SandboxUnavailableError, match="must never read"):
            TaskEnv("taskgym.envs.code.functions:FunctionTestsTask", sandbox_pool=pool)
        TaskEnv("taskgym.envs.math.arithmetic:ArithmeticProgramTask", sandbox_pool=pool).close()
    with SandboxPool("local", size=1) as pool:
        env = TaskEnv("taskgym.envs.code.functions:FunctionTestsTask", sandbox_pool=pool)
        assert env.sandbox_backend == "local"
        env.close()
