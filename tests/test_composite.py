"""Mixture-v0 and Curriculum-v0 with the real envs they are made of: sources drawn by
weight and named in info, problems replayed by id, levels moved by the rule, the same
under the same seeds and answers, and both played by the process executor from JSON
specs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.parallel import EpisodeSpec, make_executor
from tests.conftest import require_module
from tests.helpers import registered

MIX = "taskgym/Mixture-v0"
CURRICULUM = "taskgym/Curriculum-v0"
TWO = {"taskgym/ArithmeticEasy-v0": 0.7, "taskgym/MathGen-v0": 0.3}


def _answer(env: gym.Env[str, str]) -> str:
    return str(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]


def _episode(env: gym.Env[str, str], seed: int | None, action: str | None = None) -> dict:
    _, info = env.reset(seed=seed)
    _, reward, terminated, truncated, end = env.step(_answer(env) if action is None else action)
    assert terminated or truncated
    return {"reset": info, "end": end, "reward": reward}


# -- the mixture ---------------------------------------------------------------------------


def test_each_episode_is_from_one_source_drawn_by_weight_and_named_in_info() -> None:
    env = gym.make(MIX, envs=TWO)
    try:
        sources = Counter()
        for seed in range(300):
            played = _episode(env, seed)
            source = played["reset"]["source"]
            assert played["end"]["source"] == source
            assert played["reset"]["task_id"].startswith(f"{source}|")
            assert played["reward"] == 1.0
            sources[source] += 1
    finally:
        env.close()
    assert set(sources) == set(TWO)
    assert 0.62 < sources["taskgym/ArithmeticEasy-v0"] / 300 < 0.78


def test_the_mixture_is_the_same_under_the_same_seeds() -> None:
    first, second = gym.make(MIX, envs=TWO), gym.make(MIX, envs=TWO)
    try:
        for seed in range(20):
            a, b = first.reset(seed=seed), second.reset(seed=seed)
            assert a == b
    finally:
        first.close()
        second.close()


def test_a_mixture_problem_replays_by_id_and_unknown_ids_are_refused() -> None:
    env = gym.make(MIX, envs=TWO)
    try:
        prompt, info = env.reset(seed=4)
        again, info_again = env.reset(options={"task_id": info["task_id"]})
        assert (again, info_again["source"]) == (prompt, info["source"])
        for bad in ("nobar", "taskgym/Shell-v0|x", "taskgym/MathGen-v0|nope"):
            with pytest.raises(UnknownTaskIdError):
                env.reset(options={"task_id": bad})
    finally:
        env.close()


def test_per_env_options_reach_their_source() -> None:
    env = gym.make(
        MIX,
        envs={"taskgym/Arithmetic-v0": 1, "taskgym/MathGen-v0": 1},
        options={"taskgym/Arithmetic-v0": {"difficulty": "easy"}},
    )
    try:
        for seed in range(10):
            _, info = env.reset(seed=seed)
            if info["source"] == "taskgym/Arithmetic-v0":
                assert "easy" in info["task_id"]
    finally:
        env.close()


def test_a_mixture_of_single_and_multi_turn_envs_plays_each_as_its_own() -> None:
    env = gym.make(MIX, envs={"taskgym/Arithmetic-v0": 1, "taskgym/ArithmeticRetry-v0": 1})
    try:
        seen = set()
        for seed in range(12):
            _, info = env.reset(seed=seed)
            _, reward, terminated, truncated, _ = env.step("<answer>0.123</answer>")
            seen.add(info["source"])
            if info["source"] == "taskgym/Arithmetic-v0":
                assert terminated and reward == 0.0  # one answer ends it
            else:
                assert not (terminated or truncated)  # two more attempts
                _, reward, terminated, _, _ = env.step(_answer(env))
                assert terminated and reward == 1.0
        assert len(seen) == 2
    finally:
        env.close()


def test_a_mixture_with_a_sandboxed_source_closes_its_sandbox() -> None:
    env = gym.make(MIX, envs={"taskgym/CodeTests-v0": 1, "taskgym/ArithmeticEasy-v0": 1})
    sandboxes = []
    try:
        for seed in range(6):
            assert _episode(env, seed)["reward"] == 1.0
            if env.unwrapped.sandbox is not None:  # type: ignore[attr-defined]
                sandboxes.append(env.unwrapped.sandbox)  # type: ignore[attr-defined]
    finally:
        env.close()
    assert sandboxes and all(s.closed for s in sandboxes)


PENALISED = "taskgym/PenalisedRetry-v0"
PENALTY = {"weighted": [["binary", 1.0], [{"step_penalty": {"per_step": 0.25}}, 1.0]]}


def _wrong_then_right(env: gym.Env[str, str], seed: int) -> tuple[dict, float]:
    _, info = env.reset(seed=seed)
    if info.get("source", PENALISED) != PENALISED:
        return info, float(env.step(_answer(env))[1])
    env.step("<answer>0.123</answer>")
    _, reward, terminated, _, _ = env.step(_answer(env))
    assert terminated
    return info, float(reward)


def test_each_episode_is_paid_by_its_source_envs_own_reward() -> None:
    entry = "taskgym.envs.math.arithmetic:ArithmeticTask"
    with registered(PENALISED, entry, attempts=3, reward=PENALTY):
        envs = {PENALISED: 1, "taskgym/ArithmeticEasy-v0": 1}
        own, binary = gym.make(MIX, envs=envs), gym.make(MIX, envs=envs, reward="binary")
        curriculum = gym.make(CURRICULUM, env=PENALISED, values=["easy", "hard"])
        try:
            paid = {}
            for seed in range(8):
                info, reward = _wrong_then_right(own, seed)
                paid.setdefault(info["source"], set()).add(reward)
                assert _wrong_then_right(binary, seed)[1] == 1.0
            assert paid == {PENALISED: {0.75}, "taskgym/ArithmeticEasy-v0": {1.0}}
            assert _wrong_then_right(curriculum, 0)[1] == 0.75
        finally:
            for env in (own, binary, curriculum):
                env.close()
    plain = gym.make("taskgym/ArithmeticEasy-v0", reward="source")
    try:
        plain.reset(seed=0)
        answer = _answer(plain)
        with pytest.raises(ConfigError, match="pays episodes of Mixture-v0"):
            plain.step(answer)
    finally:
        plain.close()


def test_bad_mixtures_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="unknown env 'taskgym/Nope-v0'; choose one of"):
        gym.make(MIX, envs={"taskgym/Nope-v0": 1})
    with pytest.raises(ConfigError, match="finite and > 0"):
        gym.make(MIX, envs={"taskgym/Arithmetic-v0": 0})
    with pytest.raises(ConfigError, match="map env ids to weights"):
        gym.make(MIX, envs={})
    with pytest.raises(ConfigError, match="belong to the env"):
        gym.make(MIX, envs=TWO, options={"taskgym/MathGen-v0": {"reward": "format"}})
    with pytest.raises(ConfigError, match="does not mix"):
        gym.make(MIX, envs=TWO, options={"taskgym/Arithmetic-v0": {}})
    with pytest.raises(ConfigError, match="unknown option"):
        gym.make(MIX, envs=TWO, options={"taskgym/MathGen-v0": {"colour": 1}})


# -- the curriculum ------------------------------------------------------------------------


def _levels(env: gym.Env[str, str], plan: Sequence[bool], seed: int = 0) -> list[int]:
    """The level of each episode, answering right where ``plan`` says so."""
    levels = []
    for i, right in enumerate(plan):
        played = _episode(env, seed + i, None if right else "<answer>x</answer>")
        assert played["reset"]["level"] == played["end"]["level"]
        levels.append(played["reset"]["level"])
    return levels


def test_the_level_rises_with_solves_and_falls_with_failures() -> None:
    rule = {"window": 3, "raise_above": 0.6, "lower_below": 0.34}
    env = gym.make(CURRICULUM, rule=rule)
    try:
        plan = [True] * 7 + [False] * 6
        assert _levels(env, plan) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 1, 1, 0]
        _, info = env.reset(seed=99)
        assert (info["level"], info["level_value"], info["solve_rate"]) == (0, "easy", 0.0)
        assert info["task_id"].startswith("L0|arithmetic-easy-")
    finally:
        env.close()


def test_the_curriculum_is_the_same_under_the_same_seeds_and_answers() -> None:
    plan = [True, True, False, True, True, True, False, False, False, True] * 2
    runs = []
    for _ in range(2):
        env = gym.make(CURRICULUM, rule={"window": 2, "raise_above": 1.0, "lower_below": 0.0})
        try:
            runs.append(_levels(env, plan, seed=5))
        finally:
            env.close()
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


def test_the_solve_rate_is_in_info() -> None:
    env = gym.make(CURRICULUM, rule={"window": 4})
    try:
        ends = [_episode(env, s, None if s % 2 else "<answer>x</answer>")["end"] for s in range(3)]
        assert [e["solve_rate"] for e in ends] == [0.0, 0.5, pytest.approx(1 / 3)]
    finally:
        env.close()


def always_up(level: int, history: Sequence[bool], levels: int) -> int:
    """A rule of the user's, by "module:attr": up after every episode, whatever it was."""
    return level + 1 if history else level


def test_a_rule_by_module_and_name() -> None:
    env = gym.make(CURRICULUM, rule="tests.test_composite:always_up")
    try:
        assert _levels(env, [False] * 4) == [0, 1, 2, 2]
    finally:
        env.close()


def test_replays_of_another_level_do_not_count() -> None:
    env = gym.make(CURRICULUM, rule={"window": 1, "raise_above": 1.0, "lower_below": 0.0})
    try:
        _, info = env.reset(seed=1)
        old = info["task_id"]
        env.step(_answer(env))  # up to level 1
        for _ in range(3):
            _, info = env.reset(options={"task_id": old})
            assert info["level"] == 0
            env.step(_answer(env))
        assert env.reset(seed=2)[1]["level"] == 1
    finally:
        env.close()


def test_the_curriculum_moves_reasoning_gym_levels() -> None:
    require_module("reasoning_gym", "reasoning-gym")
    env = gym.make(
        CURRICULUM,
        env="taskgym/ReasoningGym-v0",
        options={"dataset": "basic_arithmetic"},
        option="level",
        values=[0, 1, 2],
        rule={"window": 2},
    )
    try:
        assert _levels(env, [True] * 5) == [0, 0, 1, 1, 2]
        _, info = env.reset(seed=0)
        assert info["task_id"].startswith("L2|rg/basic_arithmetic/")
        assert "/L2" in info["task_id"]
    finally:
        env.close()


def test_bad_curricula_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="raise_above"):
        gym.make(CURRICULUM, rule={"raise_above": 0.2, "lower_below": 0.5})
    with pytest.raises(ConfigError, match="takes window"):
        gym.make(CURRICULUM, rule={"windw": 3})
    with pytest.raises(ConfigError, match="cannot load curriculum rule"):
        gym.make(CURRICULUM, rule="tests.test_composite:nothing_here")
    with pytest.raises(ConfigError, match="two values"):
        gym.make(CURRICULUM, values=["easy"])
    with pytest.raises(ConfigError, match="must not set it"):
        gym.make(CURRICULUM, options={"difficulty": "easy"})
    with pytest.raises(ConfigError, match="difficulty must be one of"):
        gym.make(CURRICULUM, values=["easy", "extreme"])
    with pytest.raises(ConfigError, match="start must be"):
        gym.make(CURRICULUM, start=3)


# -- through an executor -------------------------------------------------------------------


@pytest.mark.slow
def test_both_play_through_the_process_executor_from_json_specs() -> None:
    specs = [EpisodeSpec(MIX, seed=s, kwargs={"envs": TWO}, episode=s) for s in range(6)] + [
        EpisodeSpec(
            CURRICULUM, seed=s, kwargs={"rule": "tests.test_composite:always_up"}, episode=s
        )
        for s in range(3)
    ]
    with make_executor("process", workers=1, concurrency=1) as executor:
        results = list(executor.map(specs))
    assert all(r.ok for r in results), [r.error for r in results]
    mixed = [r.record for r in results[:6]]
    assert {rec.task_id.split("|")[0] for rec in mixed if rec} == set(TWO)
    assert all(rec is not None and rec.reward == 1.0 for rec in mixed)
    levels = [r.record.task_id.split("|")[0] for r in results[6:] if r.record]
    assert levels == ["L0", "L1", "L2"]  # one worker, one env: its curriculum moved


def test_both_play_in_the_episode_pool() -> None:
    from taskgym.parallel.episodes import EpisodePool

    with EpisodePool(4) as pool:
        levels = []
        for env_id, kwargs in ((MIX, {"envs": TWO}), (CURRICULUM, {"rule": {"window": 1}})):
            for seed in range(3):
                episode = pool.start(EpisodeSpec(env_id, seed=seed, kwargs=kwargs))
                local = gym.make(env_id, **kwargs)
                try:
                    local.reset(options={"task_id": episode.info["task_id"]})
                    _, reward, terminated, _, info = episode.step(_answer(local))
                finally:
                    local.close()
                    episode.close()
                assert terminated and reward == 1.0
                levels.append(info.get("level"))
                assert (env_id == MIX) == ("source" in info)
    assert levels[3:] == [0, 1, 2]  # one env in the pool for the curriculum: it moved
