"""``taskgym serve`` played by OpenEnv's own client (``openenv.GenericEnvClient``, the
client TRL, verifiers and SkyRL use): single- and multi-turn episodes of each family,
native and written tool calls, session isolation, many concurrent WebSocket sessions."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require_backend, require_module

require_module("openenv", "openenv")

from openenv import GenericEnvClient  # noqa: E402

from tests.serving_helpers import Served, reference, serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENVS = (
    "taskgym/Arithmetic-v0",
    "taskgym/CodeTests-v0",
    "taskgym/Shell-v0",
    "taskgym/ShellTools-v0",
)


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    require_backend("bwrap")
    with serving(ENVS, "--max-sessions", "300") as served:
        yield served


def play(url: str, steps: list[dict[str, Any]], **reset: Any) -> list[Any]:
    """Reset with ``reset``, then send each action; the results, reset's first."""

    async def run() -> list[Any]:
        async with GenericEnvClient(base_url=url) as env:
            results = [await env.reset(**reset)]
            for action in steps:
                results.append(await env.step(action))
            return results

    return asyncio.run(run())


def call(name: str, call_id: str, **arguments: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


@pytest.mark.parametrize("env_id", ["taskgym/Arithmetic-v0", "taskgym/CodeTests-v0"])
def test_a_single_turn_episode_is_paid_and_its_verdict_comes_at_the_end(
    server: Served, env_id: str
) -> None:
    (answer,) = reference(env_id, seed=11)
    first, last = play(server.url, [{"text": answer}], seed=11, env_id=env_id)
    assert not first.done and first.observation["env_id"] == env_id
    assert first.observation["messages"][0]["role"] == "system"
    assert first.observation["messages"][1]["content"] == first.observation["text"]
    assert last.done and last.reward == 1.0
    assert last.observation["verdict"]["solved"] is True
    wrong = play(server.url, [{"text": "<answer>no</answer>"}], seed=11, env_id=env_id)[-1]
    assert wrong.done and wrong.reward == 0.0 and wrong.observation["verdict"]["solved"] is False


def test_a_reset_by_task_id_replays_the_problem(server: Served) -> None:
    first = play(server.url, [], seed=5)[0]
    again = play(server.url, [], task_id=first.observation["task_id"])[0]
    assert again.observation["text"] == first.observation["text"]


def test_a_multi_turn_shell_episode_in_text_actions(server: Served) -> None:
    actions = reference("taskgym/Shell-v0", seed=2)
    results = play(server.url, [{"text": a} for a in actions], seed=2, env_id="taskgym/Shell-v0")
    assert [r.done for r in results] == [False] * len(actions) + [True]
    assert results[-1].reward == 1.0
    assert results[-1].observation["verdict"]["solved"] is True
    assert all(r.reward == 0.0 for r in results[1:-1])


def test_native_tool_calls_are_played_in_order_and_a_bad_one_is_refused(server: Served) -> None:
    env_id = "taskgym/ShellTools-v0"
    commands = [a for a in reference(env_id, seed=4) if a != "submit"]
    calls = [call("run_command", f"c{i}", command=c) for i, c in enumerate(commands)]
    bad = {"id": "bad", "type": "function", "function": {"name": "rm_rf", "arguments": "{}"}}
    reply = {"text": "", "tool_calls": [*calls, bad]}
    first, played, ended = play(
        server.url,
        [reply, {"text": "", "tool_calls": [call("submit", "s")]}],
        seed=4,
        env_id=env_id,
    )
    assert {t["function"]["name"] for t in first.observation["tools"]} >= {"run_command", "submit"}
    answers = played.observation["messages"]
    assert [m["tool_call_id"] for m in answers] == [*[f"c{i}" for i in range(len(calls))], "bad"]
    assert "no tool named 'rm_rf'" in answers[-1]["content"]
    assert not played.done and played.observation["turn"] == len(commands)
    assert ended.done and ended.reward == 1.0


def test_tool_calls_written_in_text_are_read_and_reasoning_is_not_run(server: Served) -> None:
    env_id = "taskgym/ShellTools-v0"
    text = (
        '<think>maybe <tool_call>{"name": "run_command", "arguments": '
        '{"command": "touch hacked"}}</tool_call></think>'
        '<tool_call>{"name": "run_command", "arguments": {"command": "ls hacked; echo $?"}}'
        "</tool_call>"
    )
    played = play(server.url, [{"text": text}], seed=4, env_id=env_id)[-1]
    assert "No such file" in played.observation["text"]


def test_state_and_schema_describe_the_session_and_the_tools(server: Served) -> None:
    async def run() -> dict[str, Any]:
        async with GenericEnvClient(base_url=server.url) as env:
            await env.reset(seed=1, env_id="taskgym/Shell-v0")
            return await env.state()

    state = asyncio.run(run())
    assert state["env_id"] == "taskgym/Shell-v0" and state["done"] is False
    schema = server.get("/schema")
    assert schema["action"]["required"] == ["text"]
    tools = schema["action"]["x-tools"]["taskgym/ShellTools-v0"]
    assert {t["function"]["name"] for t in tools} == {"run_command", "submit"}


def test_bad_requests_get_errors_that_say_what_to_do(server: Served) -> None:
    with pytest.raises(RuntimeError, match="no episode is under way"):
        play(server.url, [{"text": "x"}, {"text": "y"}], seed=1)
    with pytest.raises(RuntimeError, match="reset takes seed, episode_id, task_id"):
        play(server.url, [], sede=1)
    with pytest.raises(RuntimeError, match="this server plays"):
        play(server.url, [], env_id="taskgym/Nope-v0")
    with pytest.raises(RuntimeError, match=r"VALIDATION_ERROR|Field required"):
        play(server.url, [{"txt": "x"}], seed=1)


def test_a_file_written_in_one_session_is_not_visible_in_the_next(server: Served) -> None:
    env_id = "taskgym/Shell-v0"
    marker = "leak-marker-7f3a"
    write = play(server.url, [{"text": f"echo secret > {marker}; ls"}], seed=3, env_id=env_id)
    assert marker in write[-1].observation["text"]
    look = play(server.url, [{"text": f"ls {marker}; echo rc=$?"}], seed=3, env_id=env_id)
    assert "rc=2" in look[-1].observation["text"] and "No such file" in look[-1].observation["text"]


def test_many_concurrent_sessions_each_play_their_own_episode(server: Served) -> None:
    sessions = 200
    answers = {seed: reference("taskgym/Arithmetic-v0", seed)[0] for seed in range(sessions)}

    async def one(seed: int) -> float:
        async with GenericEnvClient(base_url=server.url) as env:
            await env.reset(seed=seed)
            await asyncio.sleep(0.2)  # all sessions open at once
            result = await env.step({"text": answers[seed]})
            return float(result.reward or 0.0)

    async def run() -> list[float]:
        return await asyncio.gather(*(one(seed) for seed in range(sessions)))

    assert asyncio.run(run()) == [1.0] * sessions
    assert server.sessions() == 0


def test_openenvs_stateless_http_calls_answer_and_say_where_episodes_are(
    server: Served,
) -> None:
    """OpenEnv's HTTP /reset and /step make a new env a call: a reset answers, a step
    has no episode, and its error (JSON, 409) points to the WebSocket."""
    request = urllib.request.Request(
        server.url + "/reset", data=b'{"seed": 1}', headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["observation"]["env_id"] == ENVS[0]
    request = urllib.request.Request(
        server.url + "/step",
        data=b'{"action": {"text": "1"}}',
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 409
    assert "WebSocket /ws" in json.loads(refused.value.read())["message"]
    assert server.sessions() == 0
