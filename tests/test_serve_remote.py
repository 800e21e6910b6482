"""``taskgym/Remote-v0`` and the ``remote`` executor against real ``taskgym serve``
processes: a remote episode is the local one (observations, rewards, ends, verdicts),
gymnasium's own checker accepts the env, and episodes spread over two servers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from tests.conftest import require_backend, require_module

require_module("openenv", "openenv")

from taskgym.errors import ConfigError  # noqa: E402
from taskgym.parallel import EpisodeSpec, make_executor  # noqa: E402
from taskgym.serving.remote import RemoteError  # noqa: E402
from tests.openai_server import ChatServer, completion  # noqa: E402
from tests.serving_helpers import Served, reference, serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENVS = ("taskgym/Arithmetic-v0", "taskgym/Shell-v0")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Served, Served]]:
    require_backend("bwrap")
    with serving(ENVS) as first, serving(ENVS) as second:
        yield first, second


def trajectory(env: gym.Env[str, str], seed: int, actions: tuple[str, ...]) -> list[object]:
    steps: list[object] = [env.reset(seed=seed)]
    for action in actions:
        steps.append(env.step(action))
    return steps


@pytest.mark.parametrize("env_id", ENVS)
def test_a_remote_episode_is_the_local_one(servers: tuple[Served, Served], env_id: str) -> None:
    actions = reference(env_id, seed=6)
    local = gym.make(env_id)
    remote = gym.make("taskgym/Remote-v0", url=servers[0].url, env_id=env_id)
    try:
        assert trajectory(remote, 6, actions) == trajectory(local, 6, actions)
        wrong = ("<answer>nope</answer>",) if env_id.endswith("Arithmetic-v0") else ("submit",)
        assert trajectory(remote, 7, wrong) == trajectory(local, 7, wrong)
        # reasoning and tool-call blocks are played as written, as a local step plays them
        odd = ("<think>x</think><tool_call>{}</tool_call>",)
        assert trajectory(remote, 8, odd)[1] == trajectory(local, 8, odd)[1]
    finally:
        local.close()
        remote.close()


def test_gymnasium_checks_the_remote_env(servers: tuple[Served, Served]) -> None:
    env = gym.make("taskgym/Remote-v0", url=servers[0].url, env_id="taskgym/Arithmetic-v0")
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def test_a_remote_env_says_what_the_server_refused(servers: tuple[Served, Served]) -> None:
    env = gym.make("taskgym/Remote-v0", url=servers[0].url, env_id="taskgym/Nope-v0")
    with pytest.raises(RemoteError, match="this server plays"):
        env.reset(seed=1)
    env.close()
    with pytest.raises(ConfigError, match="server's address"):
        gym.make("taskgym/Remote-v0", url="localhost")


def test_the_remote_executor_spreads_episodes_over_servers(
    servers: tuple[Served, Served],
) -> None:
    specs = [
        EpisodeSpec("taskgym/Arithmetic-v0", seed=s, actions=reference("taskgym/Arithmetic-v0", s))
        for s in range(12)
    ]
    urls = [served.url for served in servers]
    with make_executor("remote", concurrency=4, urls=urls) as executor:
        results = list(executor.map(specs))
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        assert [r.record.reward for r in results if r.record] == [1.0] * 12
        with pytest.raises(ConfigError, match="server's"):
            executor.submit(EpisodeSpec("taskgym/Arithmetic-v0", kwargs={"difficulty": "hard"}))
    assert all(served.sessions() == 0 for served in servers)


def test_the_openai_agent_plays_remote_episodes_through_the_executor(
    servers: tuple[Served, Served],
) -> None:
    """The agent runs here (its prompt and tools from this machine's registration), the
    env on the servers; the model is the project's OpenAI-compatible test server."""
    env_id = "taskgym/Arithmetic-v0"
    answers = {reference(env_id, s)[0] for s in (3, 4)}

    def reply(body: dict[str, object]) -> dict[str, object]:
        prompt = json.dumps(body["messages"])
        # answer the problem in the prompt: the answer whose problem it is
        for seed in (3, 4):
            env = gym.make(env_id)
            observation, _ = env.reset(seed=seed)
            env.close()
            if json.dumps(observation)[1:-1] in prompt:
                return completion(f"<answer>{reference(env_id, seed)[0]}</answer>")
        return completion("<answer>?</answer>")

    options = {"model": "scripted", "base_url": "", "api_key": "unused"}
    with ChatServer(reply) as model:
        options["base_url"] = model.url
        specs = [EpisodeSpec(env_id, seed=s, agent="openai", agent_options=options) for s in (3, 4)]
        urls = [served.url for served in servers]
        with make_executor("remote", concurrency=2, urls=urls) as executor:
            results = list(executor.map(specs))
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.record.reward for r in results if r.record] == [1.0, 1.0]
    assert len(answers) == 2 and len(model.requests) == 2
    assert model.requests[0]["messages"][0]["role"] == "system"
