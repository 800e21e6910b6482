"""TaskEnv's episode contract, on small test tasks (fake sandbox where one is needed)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import pytest

import taskgym
from taskgym import (
    ActionTypeError,
    CheckerError,
    ConfigError,
    EpisodeStateError,
    Execution,
    Problem,
    SandboxError,
    TaskEnv,
    Turn,
    UnknownNameError,
    UnknownTaskIdError,
    Verdict,
)
from taskgym.sandboxes import SANDBOXES, Sandbox
from taskgym.sandboxes.fake import FakeSandbox
from tests.helpers import CountdownTask, EchoTask, FileTask


def test_single_turn_episode_terminates_with_reward_and_verdict_in_info() -> None:
    env = TaskEnv(EchoTask())
    obs, info = env.reset(seed=5)
    assert obs == env.problem.prompt
    assert info == {"task_id": env.problem.id, "family": "test", "turn": 0}
    obs, reward, terminated, truncated, info = env.step(env.problem.solution[0])
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["verdict"] == {
        "parsed": True,
        "passed": 1,
        "total": 1,
        "solved": True,
        "details": {},
    }
    assert info["turn"] == 1
    json.dumps(info)


def test_wrong_answer_is_zero_reward_not_an_error() -> None:
    env = TaskEnv(EchoTask())
    env.reset(seed=1)
    _, reward, terminated, _, info = env.step("something else")
    assert reward == 0.0 and terminated
    assert info["verdict"]["parsed"] and not info["verdict"]["solved"]


def test_reset_seed_is_deterministic_and_task_id_replays_a_problem() -> None:
    env = TaskEnv(EchoTask())
    first = env.reset(seed=42)
    assert env.reset(seed=42) == first
    assert env.reset(options={"task_id": first[1]["task_id"]})[0] == first[0]
    assert env.reset(seed=43)[0] != first[0]


def test_a_seeded_reset_plays_its_problem_seed_and_seeds_gymnasiums_generator_lazily() -> None:
    from gymnasium.utils import seeding

    from taskgym.envs.env import problem_seed

    env = TaskEnv(EchoTask())
    _, info = env.reset(seed=7)
    assert info["task_id"] == env.task.problem(problem_seed(7)).id
    assert env._rng is None  # no numpy generator built for a seeded reset
    assert env.np_random_seed == 7
    # Read, it is gymnasium's generator for that seed, not yet drawn from.
    expected, _ = seeding.np_random(7)
    assert env.np_random.bit_generator.state == expected.bit_generator.state
    # An unseeded reset draws from it, as gymnasium's envs do.
    _, after = env.reset()
    assert after["task_id"] == env.task.problem(int(expected.integers(0, 2**31 - 1))).id
    # Setting the generator, as gymnasium allows, replaces a pending seed.
    env.reset(seed=8)
    mine = seeding.np_random(99)[0]
    env.np_random = mine
    assert env.np_random is mine
    assert len({problem_seed(s) for s in range(1000)}) == 1000
    assert all(0 <= problem_seed(s) < 2**31 - 1 for s in (0, 1, 2**31, 2**64 + 5, 10**30))


@pytest.mark.parametrize("seed", [-1, 1.5, "7"])
def test_a_bad_seed_gets_gymnasiums_error(seed: Any) -> None:
    with pytest.raises(gym.error.Error, match="Seed must be"):
        TaskEnv(EchoTask()).reset(seed=seed)


def test_unknown_task_id_and_unknown_reset_option_raise_config_errors() -> None:
    env = TaskEnv(EchoTask())
    with pytest.raises(UnknownTaskIdError, match="no problem"):
        env.reset(options={"task_id": "nope"})
    with pytest.raises(UnknownTaskIdError, match="must be a str"):
        env.reset(options={"task_id": 7})
    with pytest.raises(ConfigError, match="unknown reset options"):
        env.reset(options={"taskid": "echo-1"})


def test_multi_turn_episode_goes_on_until_the_task_says_done() -> None:
    env = TaskEnv(CountdownTask(steps=2))
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("next")
    assert (obs, reward, terminated, truncated) == ("turn 1: got 'next'", 0.0, False, False)
    assert "verdict" not in info
    env.step("next")
    obs, reward, terminated, truncated, info = env.step("submit")
    assert (obs, reward, terminated, truncated) == ("submitted", 1.0, True, False)
    assert [t.action for t in env.transcript] == ["next", "next", "submit"]


def test_turn_limit_truncates_and_the_checks_still_run() -> None:
    env = TaskEnv(CountdownTask(steps=3), max_turns=2, reward="fraction_passed")
    env.reset(seed=0)
    env.step("next")
    _, reward, terminated, truncated, info = env.step("next")
    assert (terminated, truncated) == (False, True)
    assert info["verdict"]["total"] == 3  # the check ran
    assert reward == 0.0  # never submitted
    assert env.outcome is not None and env.outcome.truncated


def test_step_after_the_end_and_before_reset_raise_a_clear_error() -> None:
    env = TaskEnv(EchoTask())
    with pytest.raises(EpisodeStateError, match="reset"):
        env.step("x")
    env.reset(seed=0)
    env.step("x")
    with pytest.raises(EpisodeStateError, match="reset"):
        env.step("x")


@pytest.mark.parametrize("action", [None, 42, b"bytes", ["list"]])
def test_non_string_action_raises_action_type_error(action: Any) -> None:
    env = TaskEnv(EchoTask())
    env.reset(seed=0)
    with pytest.raises(ActionTypeError, match="actions are str"):
        env.step(action)
    # The episode is still alive: the bad call changed nothing.
    assert env.step(env.problem.solution[0])[1] == 1.0


def test_ten_megabyte_action_ends_with_an_unparsed_zero_verdict() -> None:
    env = gym.make("taskgym/Arithmetic-v0")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("1" * 10_000_000)
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert not info["verdict"]["parsed"]
    assert "max_action_chars" in info["verdict"]["details"]["reason"]


def test_action_at_the_limit_is_graded_and_one_past_it_is_rejected() -> None:
    env = TaskEnv(EchoTask(), max_action_chars=10)
    env.reset(options={"task_id": "echo-0"})
    assert env.step("word0     ")[1] == 1.0  # exactly 10 characters, graded
    env.reset(options={"task_id": "echo-0"})
    _, _, _, _, info = env.step("word0      ")
    assert not info["verdict"]["parsed"]


def test_long_observations_are_cut_in_the_middle_within_the_space() -> None:
    @dataclass(frozen=True)
    class Verbose(CountdownTask):
        def interact(
            self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
        ) -> taskgym.Reply:
            return taskgym.Reply("A" * 500 + "Z" * 500)

    env = TaskEnv(Verbose(), max_observation_chars=200)
    env.reset(seed=0)
    obs = env.step("next")[0]
    assert env.observation_space.contains(obs)
    assert obs.startswith("AAA") and obs.endswith("ZZZ") and "characters cut" in obs


class _Crashing(EchoTask):
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        raise ZeroDivisionError("checker bug")


def test_a_crashing_checker_raises_checker_error_instead_of_paying_zero() -> None:
    env = TaskEnv(_Crashing())
    env.reset(seed=0)
    with pytest.raises(CheckerError, match="not a mistake of the agent") as caught:
        env.step("word0")
    assert isinstance(caught.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize(
    ("reward", "message"),
    [
        (lambda outcome: 1 / 0, "failed in reward"),
        (lambda outcome: math.nan, "must be finite"),
        (lambda outcome: "1.0", "not a float"),
    ],
)
def test_a_broken_reward_raises_checker_error(reward: Any, message: str) -> None:
    env = TaskEnv(EchoTask(), reward=reward)
    env.reset(seed=0)
    with pytest.raises(CheckerError, match=message):
        env.step("word0")


def test_a_task_that_uses_a_sandbox_it_did_not_declare_gets_a_clear_error() -> None:
    class Sneaky(EchoTask):
        def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
            sandbox.run(["true"])
            return super().check(problem, transcript, sandbox)

    env = TaskEnv(Sneaky())
    env.reset(seed=0)
    with pytest.raises(SandboxError, match=r"Execution\(needs_sandbox=True\)"):
        env.step("word0")


def test_sandbox_is_made_at_reset_reset_between_episodes_and_closed_by_close() -> None:
    env = TaskEnv(FileTask(), sandbox="fake")
    env.reset(seed=3)
    first = env.sandbox
    assert isinstance(first, FakeSandbox) and not first.closed
    first.write_file("agent-left-this", "x")
    assert env.step(env.problem.solution[0])[1] == 1.0
    env.reset(seed=4)
    assert env.sandbox is first and not first.closed
    assert set(first.files) == {"in.txt"}  # reset, then set up for the new problem
    env.close()
    env.close()  # idempotent
    assert first.closed


def test_a_sandbox_that_cannot_reset_is_replaced() -> None:
    class OneShot(FakeSandbox):
        def reset(self) -> None:
            raise NotImplementedError

    taskgym.register_sandbox("one-shot", OneShot)
    try:
        env = TaskEnv(FileTask(), sandbox="one-shot")
        env.reset(seed=1)
        first = env.sandbox
        env.reset(seed=2)
        assert first is not None and first.closed and env.sandbox is not first
        env.close()
    finally:
        SANDBOXES.unregister("one-shot")


class OddSeedsNeedTheirOwn(FileTask):
    """Problems of odd seeds need a sandbox of another backend (like a shell task with a
    docker image of its own)."""

    def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        return ("own", {}) if int(problem.id.removeprefix("file-")) % 2 else None


def test_a_problem_that_needs_its_own_sandbox_gets_one_and_the_pool_never_sees_it() -> None:
    from taskgym.sandboxes.pool import SandboxPool

    class Own(FakeSandbox):
        backend = "own"

    taskgym.register_sandbox("own", Own)
    try:
        with SandboxPool("fake", size=1) as pool:
            env = TaskEnv(OddSeedsNeedTheirOwn(), sandbox_pool=pool)
            env.reset(options={"task_id": "file-2"})
            pooled = env.sandbox
            assert pooled is not None and pooled.backend == "fake"
            env.reset(options={"task_id": "file-1"})
            own = env.sandbox
            assert own is not None and own.backend == "own" and not pooled.closed
            assert env.step("1")[1] == 1.0  # set up and checked in its own sandbox
            env.reset(options={"task_id": "file-3"})
            assert env.sandbox is own and set(own.files) == {"in.txt"}  # type: ignore[attr-defined]
            env.reset(options={"task_id": "file-4"})
            assert own.closed and env.sandbox is not None and env.sandbox.backend == "fake"
            env.close()
            assert pool.stats.created == 1
    finally:
        SANDBOXES.unregister("own")


def test_a_problem_sandbox_that_cannot_run_here_names_the_problem() -> None:
    class Unrunnable(FileTask):
        def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
            return ("docker", {"image": "taskgym/no-such-image:latest"})

    env = TaskEnv(Unrunnable(), sandbox="fake")
    with pytest.raises(taskgym.TaskgymError, match="problem 'file-5' needs the docker sandbox"):
        env.reset(options={"task_id": "file-5"})
    env.close()


def test_envs_can_share_a_pool_and_return_sandboxes_on_close() -> None:
    from taskgym.sandboxes.pool import SandboxPool

    with SandboxPool("fake", size=1) as pool:
        a = TaskEnv(FileTask(), sandbox_pool=pool)
        b = TaskEnv(FileTask(), sandbox_pool=pool)
        a.reset(seed=1)
        leased = a.sandbox
        a.close()  # back to the pool, not closed
        assert leased is not None and not leased.closed
        b.reset(seed=2)
        assert b.sandbox is leased and set(leased.files) == {"in.txt"}  # type: ignore[attr-defined]
        b.close()
        assert pool.stats.created == 1


def test_a_task_limited_to_some_backends_gets_one_of_them() -> None:
    @dataclass(frozen=True)
    class NeedsFake(FileTask):
        execution: ClassVar[Execution] = Execution(needs_sandbox=True, sandbox_backends=("fake",))

    assert TaskEnv(NeedsFake()).sandbox_backend == "fake"  # "auto" picks an allowed one
    with pytest.raises(ConfigError, match=r"runs only in the \['fake'\] sandbox"):
        TaskEnv(NeedsFake(), sandbox="local")
    assert TaskEnv(FileTask(), sandbox="local").sandbox_backend == "local"


def test_tasks_without_sandbox_get_none_even_when_one_is_named() -> None:
    env = TaskEnv(EchoTask(), sandbox="local")
    env.reset(seed=0)
    assert env.sandbox is None


def test_render_ansi_shows_the_transcript() -> None:
    env = TaskEnv(CountdownTask(steps=1), render_mode="ansi")
    env.reset(seed=0)
    env.step("next")
    text = env.render()
    assert text is not None
    assert "Send 'next'" in text and "> next" in text and "turn 1" in text
    assert TaskEnv(EchoTask()).render() is None


def test_constructor_rejects_bad_options_with_the_fix_in_the_message() -> None:
    with pytest.raises(UnknownNameError, match="unknown reward 'bogus'; choose one of: 'binary'"):
        TaskEnv(EchoTask(), reward="bogus")
    with pytest.raises(UnknownNameError, match="unknown sandbox 'bogus'; choose one of: 'auto'"):
        TaskEnv(EchoTask(), sandbox="bogus")
    with pytest.raises(ConfigError, match="max_turns must be a positive int"):
        TaskEnv(EchoTask(), max_turns=0)
    with pytest.raises(ConfigError, match="render_mode"):
        TaskEnv(EchoTask(), render_mode="human")
    with pytest.raises(TypeError, match="were given with a ready Task instance"):
        TaskEnv(EchoTask(), difficulty="hard")
    with pytest.raises(ConfigError, match="'module:Class'"):
        TaskEnv("no_colon_here")
    with pytest.raises(ConfigError, match="not a taskgym Task"):
        TaskEnv("taskgym.envs.env:TaskEnv")


def test_make_passes_task_options_and_rejects_unknown_ones() -> None:
    env = gym.make("taskgym/Arithmetic-v0", difficulty="easy")
    assert env.unwrapped.task.difficulty == "easy"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['difficulty_level'\]"):
        gym.make("taskgym/Arithmetic-v0", difficulty_level="easy")
    with pytest.raises(ConfigError, match="difficulty must be one of"):
        gym.make("taskgym/Arithmetic-v0", difficulty="impossible")


def test_make_accepts_the_documented_reward_and_sandbox_names() -> None:
    env = gym.make("taskgym/Arithmetic-v0", reward="binary", sandbox="local")
    env.reset(seed=0)
    assert env.unwrapped.sandbox_backend == "local"  # type: ignore[attr-defined]
    with pytest.raises(UnknownNameError, match="unknown sandbox 'docker-nope'"):
        gym.make("taskgym/Arithmetic-v0", sandbox="docker-nope")


def test_info_dicts_are_fresh_objects_each_call() -> None:
    env = TaskEnv(CountdownTask(steps=1))
    _, info_a = env.reset(seed=0)
    _, _, _, _, info_b = env.step("next")
    info_a["task_id"] = "mutated"
    assert info_b["task_id"] != "mutated"
    _, _, _, _, end = env.step("submit")
    end["verdict"]["details"]["x"] = 1
    assert env.outcome is not None and "x" not in env.outcome.verdict.details


def test_step_penalty_composes_with_binary_through_weighted() -> None:
    spec: dict[str, Any] = {
        "weighted": [["binary", 1.0], [{"step_penalty": {"per_step": 0.1}}, 1.0]]
    }
    env = TaskEnv(CountdownTask(steps=2), reward=spec)
    env.reset(seed=0)
    for action in ("next", "next", "submit"):
        _, reward, *_ = env.step(action)
    assert reward == pytest.approx(1.0 - 0.2)


def test_reset_options_must_be_a_mapping() -> None:
    env = TaskEnv(EchoTask())
    with pytest.raises(ConfigError, match="reset options must be a dict"):
        env.reset(options="echo-1")  # type: ignore[arg-type]


def test_unknown_sandbox_options_fail_when_the_env_is_made() -> None:
    with pytest.raises(ConfigError, match=r"bad sandbox_options for the local sandbox.*accepts"):
        gym.make("taskgym/ArithmeticProgram-v0", sandbox="local", sandbox_options={"nope": 1})
    env = gym.make(
        "taskgym/ArithmeticProgram-v0", sandbox_options={"limits": {"wall_seconds": 3.0}}
    )
    env.reset(seed=0)
    assert env.unwrapped.sandbox.limits.wall_seconds == 3.0  # type: ignore[attr-defined]
    env.close()


def test_lone_surrogates_in_an_action_are_graded_not_crashed_on() -> None:
    env = gym.make("taskgym/ArithmeticProgram-v0", sandbox="local")
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("print('\ud800')")
    assert (reward, terminated) == (0.0, True) and not info["verdict"]["solved"]
    env.close()
