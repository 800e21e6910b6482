"""Attacks by a client of ``taskgym serve`` (any OpenEnv client, so anyone who can reach
the port): with only what it may send, it tries to change the env the operator chose,
forge a verdict, be paid twice, reach another session's state, or read the hidden
tests. Each was tried against a running server; none broke through (the message says
why each is refused)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_backend, require_module

require_module("openenv", "openenv")

from openenv import GenericEnvClient  # noqa: E402

# A function task whose hidden tests all hold SECRET, which nothing else does.
from tests.attacks.code.test_hidden_leaks import SECRET, TASK  # noqa: E402
from tests.serving_helpers import Served, reference, serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARITHMETIC = "taskgym/ArithmeticEasy-v0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_backend("bwrap")
    tasks = tmp_path_factory.mktemp("tasks") / "tasks.jsonl"
    tasks.write_text(json.dumps(TASK) + "\n")
    with serving(
        [ARITHMETIC, "taskgym/CodeTests-v0"], "--set", f"CodeTests-v0:tasks={tasks}"
    ) as served:
        yield served


def episode(url: str, reset: dict[str, Any], *steps: dict[str, Any]) -> list[Any]:
    """Reset, then each step; every result (a RuntimeError's text for a refusal)."""

    async def run() -> list[Any]:
        found: list[Any] = []
        async with GenericEnvClient(base_url=url) as env:
            for call, data in [("reset", reset)] + [("step", s) for s in steps]:
                try:
                    found.append(await (env.reset(**data) if call == "reset" else env.step(data)))
                except RuntimeError as e:
                    found.append(str(e))
            found.append(await env.state())
        return found

    return asyncio.run(run())


@pytest.mark.parametrize(
    "option",
    [{"max_turns": 1000}, {"sandbox": "local"}, {"reward": "fraction_passed"}, {"tasks": "/"}],
)
def test_a_reset_cannot_change_the_env_the_operator_chose(server: Served, option: dict) -> None:
    (refused, state) = episode(server.url, {"seed": 1, **option})
    assert "reset takes seed, episode_id, task_id, env_id, tools" in refused
    assert state["done"] is True  # no episode began


def test_a_reset_cannot_reach_an_env_the_server_does_not_serve(server: Served) -> None:
    (refused, _) = episode(server.url, {"seed": 1, "env_id": "taskgym/Shell-v0"})
    assert "this server plays" in refused


@pytest.mark.parametrize(
    "step",
    [
        # OpenEnv's Action carries free metadata: it decides nothing here
        {"text": "<answer>0</answer>", "metadata": {"verdict": {"solved": True}, "reward": 1}},
        # text shaped like the server's own answer
        {"text": json.dumps({"reward": 1.0, "done": True, "verdict": {"solved": True}})},
    ],
)
def test_a_verdict_cannot_be_forged_by_what_the_client_sends(
    server: Served, step: dict[str, Any]
) -> None:
    _, result, state = episode(server.url, {"seed": 4, "env_id": ARITHMETIC}, step)
    assert result.reward == 0.0 and result.done
    assert result.observation["verdict"]["solved"] is False
    assert state["done"] is True


def test_a_call_to_a_tool_the_env_lacks_is_refused_and_pays_nothing(server: Served) -> None:
    call = {"id": "x", "function": {"name": "submit", "arguments": "{}"}}
    _, result, state = episode(
        server.url, {"seed": 4, "env_id": ARITHMETIC}, {"text": "", "tool_calls": [call]}
    )
    assert result.reward == 0.0 and not result.done
    assert "no tool named 'submit'" in result.observation["messages"][0]["content"]
    assert state["turn"] == 0  # refused calls cost no turn


def test_an_answer_is_paid_once(server: Served) -> None:
    (answer,) = reference(ARITHMETIC, seed=6)
    _, paid, again, verbatim, _ = episode(
        server.url,
        {"seed": 6, "env_id": ARITHMETIC},
        {"text": answer},
        {"text": answer},
        {"text": answer, "verbatim": True},
    )
    assert paid.reward == 1.0
    assert "no episode is under way" in again and "no episode is under way" in verbatim


def test_a_session_never_sees_another_sessions_episode(server: Served) -> None:
    """Two sessions at once, one told the other's episode id: each state is its own."""

    async def run() -> tuple[Any, Any]:
        async with (
            GenericEnvClient(base_url=server.url) as first,
            GenericEnvClient(base_url=server.url) as second,
        ):
            await first.reset(seed=1, env_id=ARITHMETIC, episode_id="shared")
            await second.reset(seed=2, env_id=ARITHMETIC, episode_id="shared")
            (answer,) = reference(ARITHMETIC, seed=1)
            result = await second.step({"text": answer})  # the first one's answer
            return result, await first.state()

    result, first_state = asyncio.run(run())
    assert result.reward == 0.0
    assert first_state["done"] is False and first_state["step_count"] == 0


def test_no_hidden_test_reaches_the_client(server: Served, tmp_path: Path) -> None:
    """Everything a client can read, before and after its answer: the schema, the envs,
    the reset's observation, the state, the step's observation (its verdict too)."""
    seen = [json.dumps(server.get("/schema")), json.dumps(server.get("/envs"))]
    reset = {"task_id": "shout", "env_id": "taskgym/CodeTests-v0"}
    wrong = {"text": "```python\ndef shout(s):\n    return s\n```"}
    first, result, state = episode(server.url, reset, wrong)
    seen += [json.dumps(first.observation), json.dumps(result.observation), json.dumps(state)]
    assert result.done and result.reward == 0.0
    assert not [text for text in seen if SECRET in text]
