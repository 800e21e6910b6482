"""The non-lockstep episode pool: episodes stepped as their actions arrive, envs leased
one per episode in flight and reused."""

from __future__ import annotations

import asyncio
import threading

import gymnasium as gym
import pytest

from taskgym import EpisodeStateError
from taskgym.agents import make_agent
from taskgym.parallel import AsyncEpisodePool, EpisodePool, EpisodeSpec
from taskgym.runner import run_episodes
from tests.helpers import timeless

RETRY = "taskgym/ArithmeticRetry-v0"  # three attempts: a multi-turn episode


def test_episodes_advance_independently_and_record_what_a_loop_would() -> None:
    async def main() -> list[dict]:
        async with AsyncEpisodePool(concurrency=4) as pool:
            first = await pool.start(EpisodeSpec(RETRY, seed=1, agent="null"))
            second = await pool.start(EpisodeSpec(RETRY, seed=2, agent="null", episode=1))
            # The second goes to its end while the first has not moved.
            for _ in range(3):
                await second.step("")
            assert second.done and not first.done and first.actions == []
            for _ in range(3):
                await first.step("")
            with pytest.raises(EpisodeStateError, match="over"):
                await first.step("")
            records = timeless([first.record, second.record])
            await first.aclose()
            await second.aclose()
            return records

    plain = timeless(run_episodes(RETRY, make_agent("null"), episodes=2, seed=1))
    assert asyncio.run(main()) == plain


def test_concurrency_bounds_the_episodes_in_flight_and_envs_are_reused() -> None:
    async def main() -> None:
        async with AsyncEpisodePool(concurrency=2) as pool:
            a = await pool.start(EpisodeSpec(RETRY, seed=0))
            b = await pool.start(EpisodeSpec(RETRY, seed=1))
            third = asyncio.ensure_future(pool.start(EpisodeSpec(RETRY, seed=2)))
            await asyncio.sleep(0.2)
            assert not third.done()  # no place until an episode is left
            await a.aclose()
            c = await asyncio.wait_for(third, timeout=10)
            assert c.observation
            await b.aclose()
            await c.aclose()
            assert len(pool._all) == 2  # the third episode took the first one's env

    asyncio.run(main())


def test_the_sync_pool_serves_threads() -> None:
    rewards: dict[int, float] = {}

    def play(pool: EpisodePool, seed: int) -> None:
        with pool.start(EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=seed)) as episode:
            assert "answer" in episode.observation.lower()
            episode.step("<answer>nonsense</answer>")
            assert episode.done
            rewards[seed] = episode.record.reward

    with EpisodePool(concurrency=3) as pool:
        threads = [threading.Thread(target=play, args=(pool, s)) for s in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert rewards == dict.fromkeys(range(6), 0.0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gymnasium_vector_envs_step_taskgym_envs_in_lockstep(mode: str) -> None:
    import gymnasium as gym

    from taskgym.parallel import make_vec

    actions = [("<answer>0</answer>", "none")] * 3  # three wrong attempts: it ends at 3
    envs = make_vec(RETRY, num_envs=2, mode=mode)
    try:
        observations, _ = envs.reset(seed=0)
        seen = [list(observations)]
        for pair in actions:
            observations, rewards, terminated, _, _ = envs.step(pair)
            seen.append((list(observations), rewards.tolist(), terminated.tolist()))
    finally:
        envs.close()
    # The same as two envs stepped one by one (make_vec seeds env i with seed + i).
    singles = [gym.make(RETRY) for _ in range(2)]
    expected = [[singles[i].reset(seed=i)[0] for i in range(2)]]
    for pair in actions:
        steps = [singles[i].step(pair[i]) for i in range(2)]
        expected.append(
            ([s[0] for s in steps], [float(s[1]) for s in steps], [s[2] for s in steps])
        )
    for env in singles:
        env.close()
    assert seen == expected
    assert seen[-1][2] == [True, True]


def _stages_through_the_pool(**make_kwargs: object) -> list[tuple[str, str]]:
    from tests import helpers

    async def main() -> None:
        async with AsyncEpisodePool(concurrency=2) as pool:
            ep = await pool.start(EpisodeSpec(env_id, seed=0, kwargs=make_kwargs))
            async with ep:
                await ep.step("a")
                await ep.step("b")
                assert ep.done and ep.reward == 1.0

    helpers.STAGE_THREADS.clear()
    with helpers.registered("taskgym/TestNoting-v0", "tests.helpers:StageNotingTask") as env_id:
        asyncio.run(main())
    return list(helpers.STAGE_THREADS)


def test_quick_stages_run_on_the_event_loop_and_the_rest_in_threads() -> None:
    loop_thread = threading.current_thread().name  # asyncio.run's loop runs here
    stages = _stages_through_the_pool()
    assert [name for name, _ in stages] == ["problem", "interact", "interact", "check"]
    for name, thread in stages:
        if name == "check":  # not declared quick: it may block
            assert thread.startswith("taskgym-episode")
        else:
            assert thread == loop_thread


def test_a_wrapper_that_may_change_steps_sees_every_step_from_a_thread() -> None:
    # max_episode_steps adds gymnasium's TimeLimit, which the pool must not step around.
    stages = _stages_through_the_pool(max_episode_steps=5)
    assert all(thread.startswith("taskgym-episode") for _, thread in stages)


def test_a_reward_that_is_not_built_in_runs_off_the_event_loop() -> None:
    # A reward of one's own may call a model or a service: it must not block the loop,
    # even when the task's own stages are all quick enough for it.
    from taskgym.rewards import REWARDS, register_reward
    from tests import helpers

    def noting(outcome: object) -> float:
        helpers.STAGE_THREADS.append(("reward", threading.current_thread().name))
        return 1.0

    register_reward("test_noting_reward", lambda: noting)
    try:
        stages = _stages_through_the_pool(reward="test_noting_reward")
    finally:
        REWARDS.unregister("test_noting_reward")
    (thread,) = [thread for name, thread in stages if name == "reward"]
    assert thread.startswith("taskgym-episode")


def test_an_episode_plays_as_a_chat_and_records_the_conversation() -> None:
    """Episode.chat/reply: a model's replies drive the episode (reasoning stripped, a
    text reply is one action), and the record holds every message."""
    env = gym.make(RETRY)
    env.reset(seed=4)
    answer = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
    env.close()
    with EpisodePool(concurrency=1) as pool, pool.start(EpisodeSpec(RETRY, seed=4)) as episode:
        messages = episode.chat()
        assert [m["role"] for m in messages] == ["system", "user"]
        assert messages[1]["content"] == episode.observation
        assert episode.reply({"content": "<think>maybe 1</think><answer>-1</answer>"})
        after = episode.reply({"content": answer})
        assert episode.done and episode.record.reward == 1.0
        assert after == [{"role": "user", "content": episode.observation}]
        record = episode.record.to_json()
    assert record["actions"] == ["<answer>-1</answer>", answer]
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert record["messages"][2]["content"] == "<think>maybe 1</think><answer>-1</answer>"
    assert "tools" not in record  # a task without tools sends none
    assert record["rewards"] == [0.0, 1.0]


def test_reply_before_chat_is_refused() -> None:
    async def main() -> None:
        async with AsyncEpisodePool(concurrency=1) as pool:
            episode = await pool.start(EpisodeSpec(RETRY, seed=0))
            with pytest.raises(EpisodeStateError, match="chat"):
                await episode.reply({"content": "1"})
            await episode.aclose()

    asyncio.run(main())


@pytest.mark.integration
def test_a_tool_reply_plays_every_call_and_the_record_keeps_the_tools() -> None:
    from tests.conftest import require_backend

    require_backend("bwrap")
    calls = [
        {"id": "a", "type": "function", "function": {"name": "run_command",
         "arguments": '{"command": "wc -l < data.txt > count.txt"}'}},
        {"id": "b", "type": "function", "function": {"name": "nope", "arguments": "{}"}},
        {"id": "c", "type": "function", "function": {"name": "submit", "arguments": "{}"}},
        {"id": "d", "type": "function", "function": {"name": "submit", "arguments": "{}"}},
    ]  # fmt: skip
    spec = EpisodeSpec("taskgym/Shell-v0", task_id="shell-count-lines")
    with EpisodePool(concurrency=1) as pool, pool.start(spec) as episode:
        episode.chat()
        after = episode.reply({"content": None, "tool_calls": calls})
        record = episode.record.to_json()
    assert [m["tool_call_id"] for m in after] == ["a", "b", "c", "d"]
    assert "no tool named 'nope'" in after[1]["content"]
    assert "episode ended" in after[3]["content"]
    assert record["reward"] == 1.0 and record["actions"] == [
        "wc -l < data.txt > count.txt",
        "submit",
    ]
    assert [t["function"]["name"] for t in record["tools"]] == ["run_command", "submit"]
