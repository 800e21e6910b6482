"""TaskEnv under gymnasium's conventions: copies and pickles, TimeLimit truncation, and
prompts that count from the turn limit that really holds."""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import TimeLimit

from taskgym import Problem, Reply, Task, TaskEnv, Turn, Verdict
from taskgym.envs.env import make_task_env
from taskgym.errors import TaskgymError
from taskgym.registry import env_info, registered_ids
from taskgym.sandboxes import Sandbox, make_sandbox
from tests.conftest import require_backend
from tests.helpers import CountdownTask, FileTask, registered


@dataclass(frozen=True)
class SayTask(Task):
    """Multi-turn, never done by itself: solved once the agent has said the word, at
    any turn. The episode ends only at a turn limit, and must be graded there."""

    family: ClassVar[str] = "test"

    @property
    def multi_turn(self) -> bool:
        return True

    def problem(self, seed: int) -> Problem:
        return Problem(id=f"say-{seed}", prompt=f"say w{seed}", solution=(f"w{seed}",))

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        return Reply("ok")

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        said = any(t.action == problem.solution[0] for t in transcript)
        return Verdict(True, int(said), 1)


# -- copies and pickles -------------------------------------------------------------------


def _copies(env: gym.Env[str, str]) -> list[gym.Env[str, str]]:
    return [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]


def test_a_copy_of_an_env_without_sandbox_carries_the_episode_and_goes_its_own_way() -> None:
    env = TaskEnv(CountdownTask(steps=2))
    for fresh in _copies(env):  # never reset: gymnasium's checker and trainers copy these
        assert fresh.reset(seed=1)[0] == env.reset(seed=1)[0]
    env.step("next")
    for twin in _copies(env):  # mid-episode: the transcript comes along, then parts
        assert twin.step("next")[0] == "turn 2: got 'next'"
        assert twin.step("submit")[1] == 1.0
        assert len(env.unwrapped.transcript) == 1
    assert env.step("submit")[1] == 0.0  # one 'next' short: this episode is its own
    check_env(copy.deepcopy(TaskEnv(CountdownTask())), skip_render_check=True)


def _answer(env: gym.Env[str, str]) -> str:
    return str(env.unwrapped.problem.solution[0])


def test_a_sandboxed_env_copies_before_and_after_an_episode_but_refuses_during_one() -> None:
    env = TaskEnv(FileTask(), sandbox="fake")
    for fresh in _copies(env):
        fresh.reset(seed=3)
        assert fresh.step(_answer(fresh))[1] == 1.0
        fresh.close()
    env.reset(seed=4)
    box = env.unwrapped.sandbox
    with pytest.raises(TypeError, match=r"cannot be copied or pickled.*gymnasium\.make"):
        copy.deepcopy(env)
    with pytest.raises(TypeError, match=r"cannot be copied or pickled.*gymnasium\.make"):
        pickle.dumps(env)
    assert env.step(_answer(env))[1] == 1.0  # the refused copies took nothing from it
    for twin in _copies(env):  # the episode is over: copied, without the sandbox
        assert twin.unwrapped.sandbox is None
        twin.close()
    assert box is not None and not box.closed
    env.reset(seed=5)
    assert env.unwrapped.sandbox is box and env.step(_answer(env))[1] == 1.0


def test_a_deep_copy_shares_the_pool_and_a_pickle_refuses_it() -> None:
    from taskgym.sandboxes.pool import SandboxPool

    with SandboxPool("fake", size=2) as pool:
        env = TaskEnv(FileTask(), sandbox_pool=pool)
        twin = copy.deepcopy(env)
        assert twin.unwrapped.sandbox_pool is pool
        twin.reset(seed=1)
        assert twin.step(_answer(twin))[1] == 1.0
        with pytest.raises(TypeError, match="sandbox_pool cannot be pickled"):
            pickle.dumps(env)


def test_sandboxes_refuse_to_be_copied_or_pickled() -> None:
    with make_sandbox("local") as box:
        for attempt in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="cannot be copied or pickled"):
                attempt(box)
        assert box.run(["true"]).ok


@pytest.mark.integration
def test_shell_env_in_bwrap_copies_and_pickles_without_sharing_its_sandbox() -> None:
    require_backend("bwrap")
    env = gym.make("taskgym/Shell-v0", sandbox="bwrap")
    try:
        for fresh in _copies(env):
            fresh.reset(seed=0)
            assert "turn(s) left" in fresh.step("ls")[0]
            fresh.close()
        env.reset(seed=0)
        env.step("ls")
        for attempt in (copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError, match="cannot be copied or pickled"):
                attempt(env)
        env.step("submit")
        for twin in _copies(env):
            twin.close()  # closing a copy leaves the original's sandbox alone
        env.reset(seed=1)
        assert "[exit code 0]" in env.step("true")[0]
    finally:
        env.close()


def test_sync_vector_env_of_copies_runs() -> None:
    env = TaskEnv(CountdownTask(steps=1))
    envs = gym.vector.SyncVectorEnv([lambda: copy.deepcopy(env) for _ in range(2)])
    observations, _ = envs.reset(seed=0)
    assert len(observations) == 2
    envs.close()


# -- truncation by gymnasium's TimeLimit is graded ----------------------------------------


def _play_solved_then_idle(
    env: gym.Env[str, str], turns: int
) -> tuple[float, bool, dict[str, Any]]:
    env.reset(seed=7)
    step: tuple[Any, ...] = env.step(_answer(env))
    for _ in range(turns - 1):
        step = env.step("idle")
    _, reward, _, truncated, info = step
    return float(reward), bool(truncated), info


def test_a_hand_applied_time_limit_truncates_with_a_graded_verdict() -> None:
    env = TimeLimit(TaskEnv(SayTask()), max_episode_steps=3)
    reward, truncated, info = _play_solved_then_idle(env, 3)
    assert (reward, truncated) == (1.0, True)
    assert info["verdict"]["solved"]
    assert env.unwrapped.outcome is not None and env.unwrapped.outcome.truncated


def test_make_with_max_episode_steps_grades_the_truncated_episode() -> None:
    with registered("taskgym/SayForTimeLimit-v0", "tests.test_gymnasium_conventions:SayTask"):
        env = gym.make("taskgym/SayForTimeLimit-v0", max_episode_steps=2)
        reward, truncated, info = _play_solved_then_idle(env, 2)
        assert (reward, truncated, info["verdict"]["passed"]) == (1.0, True, 1)
        # The least of max_turns and the TimeLimit holds, whichever is lower.
        env = gym.make("taskgym/SayForTimeLimit-v0", max_turns=2, max_episode_steps=5)
        assert _play_solved_then_idle(env, 2)[:2] == (1.0, True)


@pytest.mark.integration
def test_a_shell_task_solved_when_max_episode_steps_runs_out_earns_its_reward() -> None:
    require_backend("bwrap")
    probe = gym.make("taskgym/Shell-v0", sandbox="bwrap")
    probe.reset(seed=0)
    commands = probe.unwrapped.problem.solution[:-1]  # the work, without the submit
    probe.close()
    env = gym.make("taskgym/Shell-v0", sandbox="bwrap", max_episode_steps=len(commands))
    try:
        env.reset(seed=0)
        for command in commands:
            observation, reward, terminated, truncated, info = env.step(command)
        assert "[no turns left: the result is checked]" in observation
        assert (reward, terminated, truncated) == (1.0, False, True)
        assert info["verdict"]["solved"]
    finally:
        env.close()


def test_drivers_that_reset_the_env_past_its_wrappers_keep_make_s_time_limit() -> None:
    # The episode pool resets and steps the TaskEnv itself, not through the TimeLimit.
    with registered("taskgym/SayForPool-v0", "tests.test_gymnasium_conventions:SayTask"):
        _, task_env = make_task_env("taskgym/SayForPool-v0", max_episode_steps=2)
        reward, truncated, info = _play_solved_then_idle(task_env, 2)
        assert (reward, truncated, info["verdict"]["solved"]) == (1.0, True, True)


def test_a_time_limit_over_another_env_does_not_limit_this_one() -> None:
    inner = TaskEnv(SayTask(), max_turns=4)

    class Resetter(gym.Wrapper[str, str, str, str]):
        def reset(self, **kwargs: Any) -> Any:
            return inner.reset(**kwargs)  # a TimeLimit's reset, but not of inner's stack

    TimeLimit(Resetter(TaskEnv(SayTask())), max_episode_steps=1).reset(seed=0)
    for _ in range(3):
        assert not inner.step("x")[3]
    assert inner.step("x")[3]  # its own limit, 4


# -- prompts count from the real limit ----------------------------------------------------


def _multi_turn_env_ids() -> list[str]:
    ids = []
    for env_id in registered_ids(self_contained=True):
        try:
            env = gym.make(env_id)
        except (TaskgymError, ImportError):  # an extra or a backend missing here
            continue
        if env_info(env_id).family != "test" and env.unwrapped.task.multi_turn:
            ids.append(env_id)
        env.close()
    return ids


_STATES_TWO = re.compile(r"\b2 (turns|attempts)\b|up to 1 time\(s\)")


def test_every_bundled_multi_turn_prompt_states_a_max_turns_of_two() -> None:
    ids = _multi_turn_env_ids()
    assert {"taskgym/ArithmeticRetry-v0", "taskgym/Shell-v0", "taskgym/CodeProject-v0"} <= set(ids)
    for env_id in ids:
        task = gym.make(env_id, max_turns=2).unwrapped.task
        for seed in range(3):
            prompt = task.problem(seed).prompt
            assert _STATES_TWO.search(prompt), (env_id, prompt[-300:])


def test_arithmetic_retry_counts_down_from_max_turns() -> None:
    env = gym.make("taskgym/ArithmeticRetry-v0", max_turns=2)
    observation, _ = env.reset(seed=0)
    assert "You have 2 attempts" in observation
    assert env.step("no")[0].endswith("1 attempt(s) left; answer again.")
    observation, _, terminated, truncated, info = env.step("no")
    assert observation.endswith("No attempts left.") and "verdict" in info
    assert (terminated, truncated) == (False, True)  # the env's limit: a truncation


def test_a_time_limit_tighter_than_max_turns_sets_the_prompt_too() -> None:
    env = gym.make("taskgym/ArithmeticRetry-v0", max_episode_steps=2)
    assert "You have 2 attempts" in env.reset(seed=0)[0]
    assert "1 attempt(s) left" in env.step("no")[0]
    assert "You have 3 attempts" in env.unwrapped.reset(seed=0)[0]  # no TimeLimit there


@pytest.mark.integration
@pytest.mark.parametrize(
    ("env_id", "first", "left"),
    [
        ("taskgym/Shell-v0", "ls", "[1 turn(s) left]"),
        ("taskgym/CodeProject-v0", "<run>ls</run>", "[1 turn(s) left]"),
        ("taskgym/CodeTestsTools-v0", "<run>print(1)</run>", "[0 run(s) left]"),
        ("taskgym/CodeTestsRetry-v0", "```python\nx = 1\n```", "1 attempt(s) left"),
    ],
)
def test_sandboxed_multi_turn_envs_count_down_from_max_turns(
    env_id: str, first: str, left: str
) -> None:
    require_backend("bwrap")
    env = gym.make(env_id, max_turns=2, sandbox="bwrap")
    try:
        observation, _ = env.reset(seed=0)
        assert _STATES_TWO.search(observation)
        observation, _, terminated, truncated, _ = env.step(first)
        assert left in observation and not (terminated or truncated)
    finally:
        env.close()
