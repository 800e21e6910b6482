"""The openai agent against a real HTTP server that speaks the chat-completions
protocol with scripted replies (tests/openai_server.py): prompts, tool calls, text
fallback, retries, refusals, accounting, concurrency and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from taskgym import AgentError, ConfigError
from taskgym.agents import make_agent
from taskgym.agents.openai import SYSTEM_PROMPTS, OpenAIAgent
from taskgym.cli import main
from taskgym.parallel import EpisodeSpec, make_executor
from taskgym.runner import play_episode
from tests.openai_server import ChatServer, Failure, completion, tool_call

EASY = "taskgym/ArithmeticEasy-v0"


def _answers(seeds: range) -> dict[str, str]:
    """Each seed's prompt -> its right answer: what the scripted 'model' knows."""
    env = gym.make(EASY)
    answers = {}
    for seed in seeds:
        prompt, _ = env.reset(seed=seed)
        answers[prompt] = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
    env.close()
    return answers


def test_a_text_episode_sends_the_prompt_and_plays_the_reply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = _answers(range(3))

    def reply(request: dict[str, Any]) -> dict[str, Any]:
        return completion(f"<answer>{answers[request['messages'][-1]['content']]}</answer>")

    monkeypatch.setenv("TEST_KEY", "sk-test")
    with ChatServer(reply) as server:
        agent = make_agent(
            "openai",
            model="tiny",
            base_url=server.url,
            api_key_env="TEST_KEY",
            temperature=0.5,
            max_tokens=64,
            price_in=1.0,
            price_out=2.0,
        )
        env = gym.make(EASY)
        records = [
            play_episode(env.unwrapped, agent, env_id=EASY, episode=i, seed=i)  # type: ignore[arg-type]
            for i in range(3)
        ]
        env.close()
    assert [r.reward for r in records] == [1.0, 1.0, 1.0]
    first = server.requests[0]
    assert first["model"] == "tiny" and first["temperature"] == 0.5 and first["max_tokens"] == 64
    assert first["messages"][0] == {"role": "system", "content": SYSTEM_PROMPTS["math"]}
    assert first["messages"][1]["role"] == "user" and "tools" not in first
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    stats = records[0].agent_stats
    assert stats["requests"] == 1 and stats["retries"] == 0
    assert (stats["prompt_tokens"], stats["completion_tokens"]) == (10, 5)
    assert stats["cost_usd"] == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    assert records[0].to_json()["agent_stats"] == stats  # in the run file


def _play_shell(env: gym.Env[str, str], agent: OpenAIAgent, task_id: str | None) -> Any:
    """One episode of ``env`` (a Shell-v0) with ``agent``, then the env closed."""
    try:
        return play_episode(
            env.unwrapped,  # type: ignore[arg-type]
            agent,
            env_id="taskgym/Shell-v0",
            episode=0,
            seed=0,
            task_id=task_id,
        )
    finally:
        env.close()


@pytest.mark.integration
def test_tool_calls_drive_a_multi_turn_shell_episode() -> None:
    env = gym.make("taskgym/Shell-v0")
    task_id = "shell-archive-old-logs"
    solution = env.unwrapped.task.get(task_id).solution  # type: ignore[attr-defined]

    def reply(request: dict[str, Any]) -> dict[str, Any]:
        turn = sum(m["role"] == "assistant" for m in request["messages"])
        action = solution[turn]
        if action == "submit":
            return completion(None, [tool_call("submit", {}, f"call-{turn}")])
        return completion(None, [tool_call("run_command", {"command": action}, f"call-{turn}")])

    with ChatServer(reply) as server:
        agent = OpenAIAgent("tiny", server.url)
        record = _play_shell(env, agent, task_id)
    assert record.reward == 1.0 and record.actions == list(solution)
    names = [tool["function"]["name"] for tool in server.requests[0]["tools"]]
    assert names == ["run_command", "submit"]
    # The observation goes back as the result of the call that caused it.
    second = server.requests[1]["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call-0"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "call-0",
        "content": record.observations[1],
    }
    assert record.agent_stats["tool_calls"] == len(solution)


@pytest.mark.integration
def test_every_call_of_one_reply_is_played_and_bad_ones_are_refused() -> None:
    """One reply holds every command, a call with broken JSON and one to an unknown
    tool among them, and reasoning around them: the good calls run in order, one env
    turn each; the bad ones cost no turn and are answered with what was wrong; nothing
    is dropped from the history; the reasoning runs nowhere."""
    env = gym.make("taskgym/Shell-v0")
    task_id = "shell-archive-old-logs"
    solution = env.unwrapped.task.get(task_id).solution  # type: ignore[attr-defined]
    commands = [a for a in solution if a != "submit"]
    calls = [tool_call("run_command", {"command": c}, f"run-{i}") for i, c in enumerate(commands)]
    broken = {"id": "broken", "type": "function"}
    broken["function"] = {"name": "run_command", "arguments": '{"command": "rm -rf /'}
    calls.insert(1, broken)
    calls.insert(2, tool_call("format_disk", {}, "unknown"))
    calls.append(tool_call("submit", {}, "end"))
    calls.append(tool_call("run_command", {"command": "echo too late"}, "late"))
    reasoning = "<think>rm -rf ~ would be faster</think>"

    with ChatServer(lambda request: completion(reasoning, calls)) as server:
        agent = OpenAIAgent("tiny", server.url)
        record = _play_shell(env, agent, task_id)
    assert record.reward == 1.0 and record.actions == list(solution)
    assert len(server.requests) == 1  # one reply played the whole episode
    assert record.agent_stats["tool_calls"] == len(solution)
    assert record.agent_stats["refused_calls"] == 2
    messages = agent.messages
    assert messages[2] == {"role": "assistant", "content": reasoning, "tool_calls": calls}
    answers = {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}
    assert set(answers) == {c["id"] for c in calls}  # every call answered, in the history
    assert "not valid JSON" in answers["broken"]
    assert "no tool named 'format_disk'" in answers["unknown"]
    assert "episode ended" in answers["late"]
    assert answers["run-0"] == record.observations[1]


@pytest.mark.integration
def test_replies_whose_calls_are_all_refused_end_up_spending_turns() -> None:
    """A model that only ever sends unreadable calls is told why each time, and after
    max_refused_replies such replies in a row its text is played: turns run out."""
    env = gym.make("taskgym/Shell-v0", max_turns=2)
    bad = [tool_call("format_disk", {}, "x")]
    with ChatServer(lambda request: completion("<think>hm</think>ls", bad)) as server:
        agent = OpenAIAgent("tiny", server.url, max_refused_replies=1)
        record = _play_shell(env, agent, None)
    assert record.actions == ["ls", "ls"] and record.truncated
    assert len(server.requests) == 4  # two replies a turn: one refused, one played
    assert record.agent_stats["refused_calls"] == 4


def test_passing_failures_are_retried_with_back_off() -> None:
    script = iter(
        [
            Failure(429, "slow down", {"Retry-After": "0"}),
            Failure(503, "overloaded"),
            completion("<answer>0</answer>"),
        ]
    )
    with ChatServer(lambda request: next(script)) as server:
        agent = OpenAIAgent("tiny", server.url, backoff=0.01)
        env = gym.make(EASY)
        record = play_episode(env.unwrapped, agent, env_id=EASY, episode=0, seed=0)  # type: ignore[arg-type]
        env.close()
    assert record.agent_stats["requests"] == 3 and record.agent_stats["retries"] == 2
    assert len(server.requests) == 3


def test_a_refusal_is_an_agent_error_with_the_servers_words() -> None:
    with ChatServer(lambda request: Failure(401, "invalid api key")) as server:
        agent = OpenAIAgent("tiny", server.url, api_key="wrong")
        env = gym.make(EASY)
        with pytest.raises(AgentError, match=r"HTTP 401: .*invalid api key"):
            play_episode(env.unwrapped, agent, env_id=EASY, episode=0, seed=0)  # type: ignore[arg-type]
        env.close()
    assert len(server.requests) == 1  # a refusal is not retried


def test_retries_run_out_into_an_agent_error() -> None:
    with ChatServer(lambda request: Failure(500, "down")) as server:
        agent = OpenAIAgent("tiny", server.url, retries=2, backoff=0.01)
        env = gym.make(EASY)
        with pytest.raises(AgentError, match=r"HTTP 500.*after 2 retries"):
            play_episode(env.unwrapped, agent, env_id=EASY, episode=0, seed=0)  # type: ignore[arg-type]
        env.close()
    assert len(server.requests) == 3


@pytest.mark.integration
def test_a_server_that_refuses_tools_gets_text_from_then_on() -> None:
    def reply(request: dict[str, Any]) -> dict[str, Any] | Failure:
        if "tools" in request:
            return Failure(400, "this server does not support tools")
        return completion("submit")

    with ChatServer(reply) as server:
        agent = OpenAIAgent("tiny", server.url)
        env = gym.make("taskgym/Shell-v0")
        try:
            for seed in range(2):
                record = play_episode(
                    env.unwrapped,  # type: ignore[arg-type]
                    agent,
                    env_id="taskgym/Shell-v0",
                    episode=seed,
                    seed=seed,
                )
                assert record.actions == ["submit"]
        finally:
            env.close()
    # One refused request, then text only, also in the next episode: the system prompt
    # describes the tools and how to call them in text.
    assert ["tools" in r for r in server.requests] == [True, False, False]
    assert "<tool_call>" in server.requests[-1]["messages"][0]["content"]


def test_many_episodes_at_once_through_an_executor() -> None:
    answers = _answers(range(8))

    def reply(request: dict[str, Any]) -> dict[str, Any]:
        return completion(answers[request["messages"][-1]["content"]])

    with ChatServer(reply) as server:
        options = {"model": "tiny", "base_url": server.url}
        specs = [
            EpisodeSpec(EASY, seed=s, agent="openai", agent_options=options, episode=s)
            for s in range(8)
        ]
        with make_executor("inline", concurrency=4) as executor:
            results = list(executor.map(specs))
    assert all(r.ok and r.record.reward == 1.0 for r in results)
    assert len(server.requests) == 8


def test_taskgym_run_with_the_openai_agent_writes_its_accounting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _answers(range(2))
    with ChatServer(lambda r: completion(answers[r["messages"][-1]["content"]])) as server:
        out = tmp_path / "run.jsonl"
        args = ["run", "ArithmeticEasy-v0", "--agent", "openai", "--model", "tiny"]
        args += ["--base-url", server.url, "--episodes", "2", "--out", str(out)]
        assert main([*args, "--price-in", "3", "--price-out", "6"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["reward"] for line in lines] == [1.0, 1.0]
    assert lines[0]["agent"] == "openai"
    assert lines[0]["agent_stats"]["cost_usd"] == pytest.approx((10 * 3 + 5 * 6) / 1e6)
    assert main(["run", "ArithmeticEasy-v0", "--model", "tiny"]) == 2
    assert "--model goes with --agent openai" in capsys.readouterr().err


def test_bad_agent_options_are_refused_clearly() -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        OpenAIAgent("")
    with pytest.raises(ConfigError, match="tools is"):
        OpenAIAgent("tiny", tools="sometimes")
    with pytest.raises(ConfigError, match="bad options"):
        make_agent("openai", model="tiny", colour="blue")


def test_each_tool_writes_the_action_its_task_reads() -> None:
    from taskgym.envs.code.functions import FunctionTestsTask, _run_code
    from taskgym.envs.code.project import Block, ProjectTestsTask, parse_blocks
    from taskgym.envs.common.extract import extract_code
    from taskgym.envs.shell.tasks import SUBMIT, ShellTask

    code = "def f(x):\n    return x + 1\n"
    tools = {t.name: t for t in FunctionTestsTask(runs=2).tools()}
    assert _run_code(tools["run_code"].action({"code": code})).strip() == code.strip()
    assert extract_code(tools["submit"].action({"code": code})).strip() == code.strip()
    assert FunctionTestsTask(attempts=3).tools() == ()  # retry mode answers in text

    project = {t.name: t for t in ProjectTestsTask().tools()}
    written = parse_blocks(project["write_file"].action({"path": "a/b.py", "content": code}))
    assert written == [Block("write", "a/b.py", code)]
    assert parse_blocks(project["read_file"].action({"path": "x.py"})) == [Block("read", "x.py")]
    assert parse_blocks(project["run"].action({"command": "ls"})) == [Block("run", text="ls")]
    assert parse_blocks(project["submit"].action({})) == [Block("submit")]

    shell = {t.name: t for t in ShellTask().tools()}
    assert shell["run_command"].action({"command": "ls -l"}) == "ls -l"
    assert shell["submit"].action({}) == SUBMIT
    with pytest.raises(ValueError, match="needs"):
        shell["run_command"].action({})
